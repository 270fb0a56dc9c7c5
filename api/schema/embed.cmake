# Turns the schema files (api/schema/*.schema, in the order given) into one C++ source holding
# their text, so kite-server carries its schema and needs no data files at run time.
# Run as: cmake -DIN=first.schema,second.schema,... -DOUT=... -P embed.cmake (commas: a CMake list
# would be split into separate arguments on its way through the build tool)
string(REPLACE "," ";" files "${IN}")
set(text "")
foreach(f IN LISTS files)
  file(READ "${f}" part)
  if(text)
    string(APPEND text "\n")
  endif()
  string(APPEND text "${part}")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from api/schema/*.schema by api/schema/embed.cmake; do not edit.\n"
  "namespace kite::api::schema {\nextern const char kBuiltinSchemaText[];\n"
  "const char kBuiltinSchemaText[] = R\"KITESCHEMA(${text})KITESCHEMA\";\n}\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
