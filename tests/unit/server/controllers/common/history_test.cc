// ControllerRevisions shared by the DaemonSet and StatefulSet controllers: revision data and hash.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/controllers/common/history.h"

namespace kite::controllers {
namespace {
namespace json = boost::json;

json::object Parse(const char* text) { return json::parse(text).as_object(); }

TEST(ControllerHistory, RevisionDataAndHash) {
  json::object ds = Parse(R"({"spec":{"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[]}}}})");
  json::object data = RevisionData(ds);
  EXPECT_EQ(json::serialize(data.at("spec").at("template").at("$patch")), R"("replace")");
  json::object rev{{"data", data}};
  EXPECT_EQ(RevisionTemplate(rev), ds.at("spec").at("template").as_object());
  // Key order does not change the hash; the collision count does.
  json::object reordered = Parse(R"({"spec":{"template":{"spec":{"containers":[]},"metadata":{"labels":{"a":"b"}},
                                     "$patch":"replace"}}})");
  EXPECT_EQ(RevisionHash(data, 0), RevisionHash(reordered, 0));
  EXPECT_NE(RevisionHash(data, 0), RevisionHash(data, 1));
  EXPECT_EQ(RevisionHash(data, 0).find_first_of("aeiou0123"), std::string::npos);
}

}  // namespace
}  // namespace kite::controllers
