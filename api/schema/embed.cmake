# Turns api/schema/builtin.schema into a C++ source holding its text, so kite-server carries its
# schema and needs no data files at run time. Run as: cmake -DIN=... -DOUT=... -P embed.cmake
file(READ "${IN}" text)
file(WRITE "${OUT}.tmp" "// Generated from api/schema/builtin.schema by api/schema/embed.cmake; do not edit.\n"
  "namespace kite::api::schema {\nextern const char kBuiltinSchemaText[];\n"
  "const char kBuiltinSchemaText[] = R\"KITESCHEMA(${text})KITESCHEMA\";\n}\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
