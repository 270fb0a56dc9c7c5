// The watch cache's text splice (server/apiserver/stored_json.h) against the decode path it
// replaces: for what the encoder writes, byte-for-byte the same event text; anything else is
// declined, never mangled.
#include "server/apiserver/storage/stored_json.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <random>
#include <string>

namespace kite::apiserver {
namespace {
namespace json = boost::json;

// What the watch cache did before the splice: decode, set metadata.resourceVersion, encode.
std::string Decoded(const std::string& text, int64_t rv) {
  json::value v = json::parse(text);
  auto& obj = v.as_object();
  json::value& meta = obj["metadata"];
  if (!meta.is_object()) meta = json::object();
  meta.as_object()["resourceVersion"] = std::to_string(rv);
  return json::serialize(obj);
}

std::string Spliced(const std::string& text, int64_t rv) {
  auto scan = ScanStoredObject(text);
  if (!scan) return "(declined)";
  auto out = WithResourceVersion(text, *scan, rv);
  return out ? *out : "(no metadata)";
}

TEST(StoredJson, SetsTheResourceVersionAsTheDecoderWould) {
  for (const std::string text : {
           R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"default"},"spec":{}})",
           R"({"kind":"Pod","metadata":{},"spec":{"x":[1,-2,0,true,false,null,"s\"\\\n\t"]}})",
           R"({"metadata":{"name":"a","resourceVersion":"12","uid":"u"}})",
           R"({"metadata":{"resourceVersion":"12"}})",
           R"({"spec":{"template":{"metadata":{"name":"inner"}}},"metadata":{"name":"outer"}})",
           R"({"metadata":{"labels":{"app":"x","tier":"web"},"annotations":{"a":"{\"metadata\":{}}"}}})",
       }) {
    SCOPED_TRACE(text);
    EXPECT_EQ(Spliced(text, 4711), Decoded(text, 4711));
  }
}

TEST(StoredJson, FindsTheLabels) {
  const std::string text = R"({"metadata":{"name":"a","labels":{"app":"x"}},"spec":{"labels":{"no":"t"}}})";
  auto scan = ScanStoredObject(text);
  ASSERT_TRUE(scan);
  EXPECT_EQ(LabelsText(text, *scan), R"({"app":"x"})");
  const std::string none = R"({"metadata":{"name":"a"},"spec":{"labels":{"no":"t"}}})";
  EXPECT_EQ(LabelsText(none, *ScanStoredObject(none)), "");
}

TEST(StoredJson, DeclinesWhatItCannotVouchFor) {
  for (const std::string text : {
           // Valid JSON, but not as the encoder writes it: the decoder handles these.
           R"({ "metadata":{}})", "{\"metadata\":{}}\n", R"({"metadata":{"name":"\u0061"}})",
           R"({"metadata":{"name":"caf)" "\xc3\xa9" R"("}})", R"({"metadata":{},"n":1.5})", R"({"metadata":{},"n":1e3})",
           R"({"metadata":{},"n":12345678901234567890})", R"({"metadata":{"name":"a\/b"}})",
           R"({"metadata":{},"metadata":{}})", R"({"metadata":{"labels":{},"labels":{}}})",
           R"({"metadata":{"resourceVersion":"1","resourceVersion":"2"}})", R"({"metadata":"x"})",
           // Not JSON, or not an object.
           "", "[]", "\"s\"", "{", "{}}", R"({"a":})", R"({"a":01})", R"({"a":-})", R"({"a":tru})",
           R"({"a":[1,]})", R"({"a":1,})", R"({"a" :1})", R"({"a":"x)", "{\"a\":\"\x01\"}",
           "k8s\x00\x0a\x09", R"({"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})",
       }) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(ScanStoredObject(text).has_value());
  }
  // An object without metadata scans, but has nothing to splice into.
  const std::string bare = R"({"kind":"Pod"})";
  auto scan = ScanStoredObject(bare);
  ASSERT_TRUE(scan);
  EXPECT_FALSE(WithResourceVersion(bare, *scan, 3).has_value());
}

// Random objects as the encoder writes them: the splice and the decode path agree byte for byte.
json::value RandomValue(std::mt19937& rng, int depth) {
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  auto str = [&] {
    static const std::string alphabet = "abcXYZ09 _-./:\"\\\n\t\b\f\r{}[],";
    std::string s;
    for (int i = pick(8); i > 0; --i) s += alphabet[pick(static_cast<int>(alphabet.size()))];
    return s;
  };
  switch (depth > 4 ? pick(4) : pick(6)) {
    case 0: return json::value(str());
    case 1: return json::value(static_cast<int64_t>(rng()) % 1000000007 - 500000000);
    case 2: return json::value(pick(2) == 0);
    case 3: return json::value(nullptr);
    case 4: {
      json::array a;
      for (int i = pick(4); i > 0; --i) a.push_back(RandomValue(rng, depth + 1));
      return a;
    }
    default: {
      json::object o;
      for (int i = pick(5); i > 0; --i) o[str()] = RandomValue(rng, depth + 1);
      return o;
    }
  }
}

TEST(StoredJson, AgreesWithTheDecoderOnRandomObjects) {
  std::mt19937 rng(7);
  int spliced = 0;
  for (int i = 0; i < 3000; ++i) {
    json::object obj;
    json::object meta;
    if (rng() % 2) meta["name"] = "n" + std::to_string(i);
    if (rng() % 3 == 0) meta["resourceVersion"] = std::to_string(rng() % 100);
    if (rng() % 2) meta["labels"] = RandomValue(rng, 3);
    json::value body = RandomValue(rng, 1);
    // metadata first, last or between the other members.
    if (rng() % 2) obj["metadata"] = meta;
    obj["spec"] = body;
    obj["status"] = RandomValue(rng, 1);
    if (!obj.contains("metadata")) obj["metadata"] = meta;
    const std::string text = json::serialize(obj);
    SCOPED_TRACE(text);
    auto scan = ScanStoredObject(text);
    ASSERT_TRUE(scan);  // the encoder's own output is always accepted
    EXPECT_EQ(Spliced(text, i + 1), Decoded(text, i + 1));
    const auto& labels = obj["metadata"].as_object();
    if (auto it = labels.find("labels"); it != labels.end()) {
      EXPECT_EQ(json::parse(LabelsText(text, *scan)), it->value());
    } else {
      EXPECT_EQ(LabelsText(text, *scan), "");
    }
    ++spliced;
  }
  EXPECT_EQ(spliced, 3000);
}

}  // namespace
}  // namespace kite::apiserver
