// server/apiserver/admission/admission.cc, create-time admission of built-in kinds; here its
// DefaultStorageClass plugin through a real API server: a claim without storageClassName gets
// the default class (the newest when several are), "" stays "", and without a default the claim
// is left without a class.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/object.h"
#include "api/resources.h"
#include "tests/unit/server/apiserver/test_server.h"

namespace kite {
namespace {
namespace json = boost::json;

json::object Class(const std::string& name, bool is_default) {
  json::object sc = json::parse(R"({"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{},
                                    "provisioner":"example.com/p"})").as_object();
  auto& meta = sc["metadata"].as_object();
  meta["name"] = name;
  if (is_default) meta["annotations"] = json::object{{"storageclass.kubernetes.io/is-default-class", "true"}};
  return sc;
}

json::object Claim(const std::string& name, const json::value* class_name) {
  json::object c = json::parse(R"({"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{},
    "spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}})").as_object();
  c["metadata"].as_object()["name"] = name;
  if (class_name) c["spec"].as_object()["storageClassName"] = *class_name;
  return c;
}

TEST(DefaultStorageClassAdmission, ClaimWithoutAClassGetsTheDefault) {
  testing::InProcessApiServer api;
  ASSERT_NO_FATAL_FAILURE(api.Start());
  auto client = api.AdminClient();
  const api::ResourceInfo* classes = api::FindResource("storage.k8s.io", "v1", "storageclasses");
  const api::ResourceInfo* claims = api::FindResource("", "v1", "persistentvolumeclaims");
  auto created_class = [&](const json::object& c) {
    auto r = client->Create(*claims, "default", c);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? api::GetString(*r, {"spec", "storageClassName"}) : std::string("<error>");
  };
  auto has_class = [&](const json::object& c) {
    auto r = client->Create(*claims, "default", c);
    EXPECT_TRUE(r.ok());
    return r.ok() && api::GetObject(*r, "spec").contains("storageClassName");
  };

  EXPECT_FALSE(has_class(Claim("none-yet", nullptr))) << "no default class: no class";
  ASSERT_TRUE(client->Create(*classes, "", Class("other", false)).ok());
  ASSERT_TRUE(client->Create(*classes, "", Class("local-path", true)).ok());
  EXPECT_EQ(created_class(Claim("a", nullptr)), "local-path");
  const json::value empty = "";
  EXPECT_EQ(created_class(Claim("b", &empty)), "") << "\"\" asks for no class";
  const json::value other = "other";
  EXPECT_EQ(created_class(Claim("c", &other)), "other");
}

}  // namespace
}  // namespace kite
