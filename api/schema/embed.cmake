# Turns the schema files (api/schema/*.schema, in the order given) into one C++ source holding
# their text, so kite-server carries its schema and needs no data files at run time.
# Run as: cmake -DIN=first.schema -DIN2=second.schema -DOUT=... -P embed.cmake
file(READ "${IN}" text)
if(DEFINED IN2)
  file(READ "${IN2}" text2)
  string(APPEND text "\n${text2}")
endif()
file(WRITE "${OUT}.tmp" "// Generated from api/schema/*.schema by api/schema/embed.cmake; do not edit.\n"
  "namespace kite::api::schema {\nextern const char kBuiltinSchemaText[];\n"
  "const char kBuiltinSchemaText[] = R\"KITESCHEMA(${text})KITESCHEMA\";\n}\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
