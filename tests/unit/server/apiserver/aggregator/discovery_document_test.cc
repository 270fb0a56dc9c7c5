// An extension API server's APIResourceList as the aggregator reads it (ParseApiResourceList):
// resources and their subresources, singular names, and what is left out or refused. The
// exchange with a real extension server: tests/integration/kubectl/apiservices.sh.
#include "server/apiserver/aggregator/discovery_document.h"

#include <gtest/gtest.h>

#include <string>

namespace kite::apiserver {
namespace {

TEST(AggregatorDiscovery, ResourcesAndSubresources) {
  auto r = ParseApiResourceList(R"({"kind":"APIResourceList","groupVersion":"wardle.example.com/v1alpha1","resources":[
      {"name":"flunders","singularName":"flunder","namespaced":true,"kind":"Flunder","verbs":["get","list"],"shortNames":["fl"],
       "categories":["all"]},
      {"name":"flunders/status","singularName":"","namespaced":true,"kind":"Flunder","verbs":["get","patch"]},
      {"name":"fischers","namespaced":false,"kind":"Fischer","verbs":["get"]}]})",
                                "wardle.example.com", "v1alpha1");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  const api::ResourceInfo& f = (*r)[0];
  EXPECT_EQ(f.group, "wardle.example.com");
  EXPECT_EQ(f.version, "v1alpha1");
  EXPECT_EQ(f.resource, "flunders");
  EXPECT_EQ(f.singular, "flunder");
  EXPECT_TRUE(f.namespaced);
  EXPECT_EQ(f.verbs, (std::vector<std::string>{"get", "list"}));
  EXPECT_EQ(f.short_names, (std::vector<std::string>{"fl"}));
  EXPECT_EQ(f.categories, (std::vector<std::string>{"all"}));
  ASSERT_EQ(f.subresources.size(), 1u);
  EXPECT_EQ(f.subresources[0].name, "status");
  EXPECT_EQ(f.subresources[0].verbs, (std::vector<std::string>{"get", "patch"}));
  // No singularName: the kind in lower case, as kubectl derives it.
  EXPECT_EQ((*r)[1].singular, "fischer");
  EXPECT_FALSE((*r)[1].namespaced);
}

TEST(AggregatorDiscovery, BadEntriesLeftOutBadDocumentsRefused) {
  auto r = ParseApiResourceList(R"({"resources":[{"name":"Bad/Name","kind":"X"},{"name":"../x","kind":"X"},
      {"name":"nokind"},{"name":"ok","kind":"Ok"},7,{"name":"orphan/status","kind":"X"}]})",
                                "g.io", "v1");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].resource, "ok");
  EXPECT_FALSE(ParseApiResourceList("[]", "g.io", "v1").ok());
  EXPECT_FALSE(ParseApiResourceList("{", "g.io", "v1").ok());
  std::string many = R"({"resources":[)";
  for (size_t i = 0; i <= kMaxDiscoveredResources; ++i) many += (i ? "," : "") + std::string(R"({"name":"r","kind":"K"})");
  EXPECT_FALSE(ParseApiResourceList(many + "]}", "g.io", "v1").ok());
}

}  // namespace
}  // namespace kite::apiserver
