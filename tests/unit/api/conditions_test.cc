// api/conditions.h, api/owner_references.h, api/pod.h, api/selectors.h: the object helpers
// controllers share.
#include "api/conditions.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "api/object.h"
#include "api/owner_references.h"
#include "api/pod.h"
#include "api/selectors.h"

namespace kite::api {
namespace {

json::object Parse(std::string_view text) { return json::parse(text).as_object(); }

TEST(ConditionsTest, SetKeepsTransitionTimeWhileStatusStays) {
  json::object status = Parse(R"({"conditions":[
      {"type":"Ready","status":"True","lastTransitionTime":"2024-01-01T00:00:00Z"},
      {"type":"Other","status":"False"}, 7]})");
  SetCondition(status, NewCondition("Ready", "True", "StillReady", "m", "2024-02-02T00:00:00Z"));
  const json::object* ready = FindCondition(status, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(GetString(*ready, "lastTransitionTime"), "2024-01-01T00:00:00Z");
  EXPECT_EQ(GetString(*ready, "reason"), "StillReady");
  EXPECT_EQ(GetArray(status, "conditions").size(), 3u);  // the non-object entry is kept
  EXPECT_EQ(GetString(GetArray(status, "conditions").back().as_object(), "type"), "Ready");  // appended

  SetCondition(status, NewCondition("Ready", "False", "Down", "", "2024-03-03T00:00:00Z"));
  EXPECT_EQ(GetString(*FindCondition(status, "Ready"), "lastTransitionTime"), "2024-03-03T00:00:00Z");
  EXPECT_FALSE(IsConditionTrue(status, "Ready"));
  EXPECT_EQ(FindCondition(status, "Missing"), nullptr);
}

TEST(OwnerReferencesTest, ControllerRefAndKey) {
  json::object owner = Parse(R"({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"rs","uid":"u1"}})");
  json::object pod = Parse(R"({"metadata":{"namespace":"ns","ownerReferences":[{"kind":"X","uid":"u0"}]}})");
  EXPECT_EQ(ControllerOf(pod), nullptr);
  pod["metadata"].as_object()["ownerReferences"].as_array().push_back(ControllerRef(owner));
  EXPECT_TRUE(IsControlledBy(pod, "u1"));
  EXPECT_EQ(ControllerKeyOf(pod, "ReplicaSet"), "ns/rs");
  EXPECT_EQ(ControllerKeyOf(pod, "Job"), std::nullopt);
  EXPECT_TRUE(GetBool(*ControllerOf(pod), "blockOwnerDeletion"));
}

TEST(PodTest, PredicatesAndTemplates) {
  json::object pod = Parse(R"({"status":{"phase":"Running","conditions":[
      {"type":"Ready","status":"True","lastTransitionTime":"2024-01-01T00:00:00Z"}]}})");
  EXPECT_TRUE(IsPodActive(pod));
  EXPECT_TRUE(IsPodReady(pod));
  const Timestamp t = *ParseTime("2024-01-01T00:00:10Z");
  EXPECT_TRUE(IsPodAvailable(pod, 10, t));
  EXPECT_FALSE(IsPodAvailable(pod, 11, t));
  pod["metadata"] = json::object{{"deletionTimestamp", "2024-01-01T00:00:00Z"}};
  EXPECT_FALSE(IsPodActive(pod));

  json::object owner = Parse(R"({"kind":"Job","metadata":{"name":"j","namespace":"ns","uid":"u"}})");
  json::object tmpl = Parse(R"({"metadata":{"labels":{"a":"b"}},"spec":{"containers":[]}})");
  json::object made = PodFromTemplate(tmpl, owner, "j-");
  EXPECT_EQ(Namespace(made), "ns");
  EXPECT_EQ(GetString(Labels(made), "a"), "b");
  EXPECT_TRUE(IsControlledBy(made, "u"));
  EXPECT_EQ(GetString(Metadata(made), "generateName"), "j-");
}

TEST(SelectorsTest, WorkloadAndMapSelectors) {
  json::object rs = Parse(R"({"spec":{"selector":{"matchLabels":{"app":"web"}}}})");
  json::object pod = Parse(R"({"metadata":{"labels":{"app":"web"}}})");
  EXPECT_TRUE(LabelsMatch(SelectorOf(rs), pod));
  EXPECT_FALSE(LabelsMatch(SelectorOf(json::object{}), pod));  // no selector selects nothing
  json::value map = json::parse(R"({"app":"web"})");
  EXPECT_TRUE(LabelsMatch(MapSelector(&map), pod));
  json::value empty = json::object{};
  EXPECT_TRUE(MapSelector(&empty).IsNothing());
  EXPECT_TRUE(MapSelector(nullptr).IsNothing());
}

}  // namespace
}  // namespace kite::api
