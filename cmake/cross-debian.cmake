# Shared part of kite's cross toolchain files (toolchain-<triplet>.cmake set KITE_TRIPLET and
# include this). The compiler is Debian's cross g++ (g++-<triplet>): its own libc, libstdc++
# and libgcc live under /usr/<triplet>. Every other library comes from a sysroot of the target
# architecture's Debian packages, unpacked (not installed) by `packaging/dev.sh sysroot <arch>`
# into KITE_SYSROOT (default ~/.cache/kite-sysroot/<arch>): installing them with dpkg as
# multiarch packages would require the host's amd64 packages at the exact same versions, and
# upgrading those (kernel headers, OpenSSL) would rebuild every native tree on the machine.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${KITE_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${KITE_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${KITE_TRIPLET})

if(NOT KITE_SYSROOT)
  if(DEFINED ENV{KITE_SYSROOT})
    set(KITE_SYSROOT $ENV{KITE_SYSROOT})
  else()
    set(KITE_SYSROOT $ENV{HOME}/.cache/kite-sysroot/${KITE_DEB_ARCH})
  endif()
endif()
set(KITE_SYSROOT ${KITE_SYSROOT} CACHE PATH "unpacked Debian packages of the target architecture")
# try_compile projects see the toolchain file again: pass the sysroot on.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES KITE_SYSROOT)
if(NOT EXISTS ${KITE_SYSROOT}/usr/include/boost)
  message(FATAL_ERROR "no sysroot at ${KITE_SYSROOT}: run `bash packaging/dev.sh sysroot ${KITE_DEB_ARCH}`")
endif()

# Libraries, headers and CMake packages only from the sysroot; programs (protoc, the gRPC
# plugin) from the host.
set(CMAKE_FIND_ROOT_PATH ${KITE_SYSROOT} /usr/${KITE_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The sysroot's headers ahead of the host's /usr/include: Debian's cross g++ searches /usr/include
# last, so with -idirafter the host's amd64 headers (OpenSSL, protobuf, Boost...) were the ones
# compiled against whenever the host had the same -dev package, at the host's version. -isystem
# also puts them ahead of the compiler's own libc and libstdc++ headers, which is harmless as
# long as the sysroot holds none of those (it holds only the libraries of deps.txt's sysroot
# group; no file of it shadows one under /usr/<triplet>/include). Its libraries on the link path.
set(_kite_flags "-isystem ${KITE_SYSROOT}/usr/include/${KITE_TRIPLET} -isystem ${KITE_SYSROOT}/usr/include")
set(CMAKE_C_FLAGS_INIT "${_kite_flags}")
set(CMAKE_CXX_FLAGS_INIT "${_kite_flags}")
set(_kite_ld "-L${KITE_SYSROOT}/usr/lib/${KITE_TRIPLET} -Wl,-rpath-link,${KITE_SYSROOT}/usr/lib/${KITE_TRIPLET}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_kite_ld}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_kite_ld}")

# pkg-config reads the sysroot's .pc files and prefixes their paths with it.
set(ENV{PKG_CONFIG_SYSROOT_DIR} ${KITE_SYSROOT})
set(ENV{PKG_CONFIG_LIBDIR} "${KITE_SYSROOT}/usr/lib/${KITE_TRIPLET}/pkgconfig:${KITE_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
# How tests run the target's binaries on this machine (qemu-user-static, the cross libc).
set(CMAKE_CROSSCOMPILING_EMULATOR ${KITE_QEMU};-L;/usr/${KITE_TRIPLET})
