# KITE_SELF_CONTAINED: release binaries that need nothing but libc on the target (a minimal
# Debian or Raspberry Pi OS). Every library Debian ships as a static archive (.a) is linked
# statically: Boost.JSON/URL, OpenSSL, SQLite, yaml-cpp, protobuf, gRPC with Abseil, c-ares,
# upb and RE2, zlib, jemalloc. prometheus-cpp is packaged as a shared library only, and it
# needs libstdc++ and libgcc_s: those three are copied beside the binaries' folder into
# lib/kite/ (kite_bundle_runtime_libs) and found through an $ORIGIN run path, so a release tree
# (bin/ + lib/kite/) can be moved anywhere.
#
# Include once before the find_package() calls (kite_self_contained_prefer_static) and once
# after them (kite_self_contained_finish).

macro(kite_self_contained_prefer_static)
  # find_library() (FindOpenSSL, FindSQLite3, FindProtobuf, FindZLIB, gRPC's Findc-ares and
  # Findre2, pkg_check_modules' library lookup) picks the archive when there is one.
  set(CMAKE_FIND_LIBRARY_SUFFIXES .a .so)
  set(Boost_USE_STATIC_LIBS ON)
  set(OPENSSL_USE_STATIC_LIBS ON)
  set(Protobuf_USE_STATIC_LIBS ON)
endmacro()

# CMake packages of Debian's shared builds (gRPC, Abseil, yaml-cpp) import the .so: point each
# imported library at the .a beside it. Their INTERFACE_LINK_LIBRARIES already list every
# dependency, which a static link needs.
function(_kite_imported_to_static dir)
  get_property(targets DIRECTORY ${dir} PROPERTY IMPORTED_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub ${subdirs})
    _kite_imported_to_static(${sub})
  endforeach()
  foreach(t ${targets})
    if(t MATCHES "^prometheus-cpp::")
      continue()
    endif()
    get_target_property(type ${t} TYPE)
    if(NOT type STREQUAL "SHARED_LIBRARY" AND NOT type STREQUAL "UNKNOWN_LIBRARY")
      continue()
    endif()
    get_target_property(configs ${t} IMPORTED_CONFIGURATIONS)
    set(props IMPORTED_LOCATION)
    if(configs)
      foreach(c ${configs})
        list(APPEND props IMPORTED_LOCATION_${c})
      endforeach()
    endif()
    foreach(p ${props})
      get_target_property(loc ${t} ${p})
      if(loc AND loc MATCHES "^(.*)\\.so(\\.[0-9.]+)?$")
        set(archive ${CMAKE_MATCH_1}.a)
        if(EXISTS ${archive})
          set_target_properties(${t} PROPERTIES ${p} ${archive})
        endif()
      endif()
    endforeach()
  endforeach()
endfunction()

# pkg_check_modules' targets (RE2, jemalloc, gRPC's re2::re2) may carry a bare -l<name> (when the .pc file's
# -L is a system directory), which the linker resolves to the .so: name the archive instead.
function(_kite_pkgconfig_to_static t)
  if(NOT TARGET ${t})
    return()
  endif()
  get_target_property(libs ${t} INTERFACE_LINK_LIBRARIES)
  set(out)
  foreach(l ${libs})
    set(name)
    if(l MATCHES "^-l(.+)$")
      set(name ${CMAKE_MATCH_1})
    elseif(l MATCHES "/lib([^/]+)\\.so(\\.[0-9.]+)?$")
      set(name ${CMAKE_MATCH_1})
    endif()
    if(name)
      find_library(KITE_STATIC_${name} NAMES lib${name}.a)
      if(KITE_STATIC_${name})
        set(l ${KITE_STATIC_${name}})
      endif()
    endif()
    list(APPEND out ${l})
  endforeach()
  set_target_properties(${t} PROPERTIES INTERFACE_LINK_LIBRARIES "${out}")
endfunction()

function(kite_self_contained_finish)
  _kite_imported_to_static(${CMAKE_SOURCE_DIR})
  _kite_pkgconfig_to_static(PkgConfig::RE2)
  _kite_pkgconfig_to_static(PkgConfig::JEMALLOC)
  _kite_pkgconfig_to_static(re2::re2)  # gRPC's Findre2 module: pkg-config's flags as they are
  # A static libstdc++ and libgcc cannot be shared with the bundled libprometheus-cpp-core.so
  # (two copies of the C++ runtime in one process), so both stay shared and ship in lib/kite/.
  set(KITE_RUNTIME_RPATH "$ORIGIN/../lib/kite;$ORIGIN" PARENT_SCOPE)
endfunction()

# The shared libraries a self-contained binary still loads (besides libc), copied into
# <build>/lib/kite/ when `target` is built.
function(kite_bundle_runtime_libs target)
  set(dest ${CMAKE_BINARY_DIR}/lib/kite)
  get_target_property(prom prometheus-cpp::core LOCATION)
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libstdc++.so.6
                  OUTPUT_VARIABLE stdcxx OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libgcc_s.so.1
                  OUTPUT_VARIABLE gcc_s OUTPUT_STRIP_TRAILING_WHITESPACE)
  get_filename_component(prom_name ${prom} NAME)
  string(REGEX REPLACE "(\\.so\\.[0-9]+\\.[0-9]+).*" "\\1" prom_soname ${prom_name})
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dest}
    COMMAND ${CMAKE_COMMAND} -E copy ${prom} ${dest}/${prom_soname}
    COMMAND ${CMAKE_COMMAND} -E copy ${stdcxx} ${dest}/libstdc++.so.6
    COMMAND ${CMAKE_COMMAND} -E copy ${gcc_s} ${dest}/libgcc_s.so.1
    COMMAND ${CMAKE_STRIP} --strip-unneeded ${dest}/${prom_soname} ${dest}/libstdc++.so.6 ${dest}/libgcc_s.so.1
    VERBATIM)
  set_target_properties(${target} PROPERTIES
    BUILD_RPATH "${KITE_RUNTIME_RPATH}" INSTALL_RPATH "${KITE_RUNTIME_RPATH}"
    BUILD_WITH_INSTALL_RPATH ON SKIP_BUILD_RPATH OFF)
  target_link_options(${target} PRIVATE -s -Wl,--gc-sections -Wl,-z,origin)
  # The position-independent executable's relative relocations (one per pointer in vtables and
  # tables: 1.26 MB of .rela.dyn in the amd64 server) packed into a bitmap (DT_RELR, ~1% of that),
  # still PIE. glibc loads DT_RELR from 2.36 (Debian 12, Raspberry Pi OS 12; the binaries already
  # need 2.34). Debian 12's binutils (2.40) packs them on x86-64 only: for ARM it ignores the
  # flag with a warning, so it is not passed there.
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    target_link_options(${target} PRIVATE -Wl,-z,pack-relative-relocs)
  endif()
endfunction()
