#include "api/json_text.h"

#include <gtest/gtest.h>

#include "api/json_patch.h"

namespace kite::api {
namespace {

TEST(JsonText, RejectsNumbersOutOfRange) {
  // Found by the JSON patch fuzzer: Boost.JSON made NaN of 0e444444444, and NaN != NaN.
  for (const char* text : {"0e444444444", "1e400", "[1,{\"a\":-1e999}]", "{\"x\":{\"y\":[2E11151111]}}"}) {
    auto v = ParseJson(text);
    EXPECT_FALSE(v.ok()) << text;
    if (!v.ok()) {
      EXPECT_EQ(v.status().message(), "number out of range");
    }
  }
  EXPECT_TRUE(ParseJson("[0e4, 1.5e300, -2e-400]").ok());
  EXPECT_FALSE(ParseJson("{").ok());
}

TEST(JsonText, PatchOfNonFiniteNumbersIsAnError) {
  auto doc = ParseJson(R"({"a":1})");
  ASSERT_TRUE(doc.ok());
  EXPECT_FALSE(ApplyJsonPatch(*doc, std::string_view(R"([{"op":"add","path":"/b","value":1e400}])")).ok());
}

}  // namespace
}  // namespace kite::api
