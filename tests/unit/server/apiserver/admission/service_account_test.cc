// The ServiceAccount admission plugin's decisions on pod JSON (server/apiserver/admission/service_account.h).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/apiserver/admission/service_account.h"

namespace kite::apiserver {
namespace {
namespace json = boost::json;

json::object Pod(const char* spec) {
  return json::object{{"metadata", json::object{{"name", "p"}}}, {"spec", json::parse(spec)}};
}

const json::object kAccount = json::parse(R"({"metadata":{"name":"default","uid":"u"}})").as_object();

TEST(ServiceAccountAdmission, DefaultsTheNameAndMountsTheTokenVolumeEverywhere) {
  json::object pod = Pod(R"({"initContainers":[{"name":"i"}],"containers":[{"name":"a"},{"name":"b"}]})");
  EXPECT_EQ(DefaultServiceAccountName(pod), "default");
  ASSERT_TRUE(AdmitServiceAccount(pod, "ns", &kAccount).ok());
  const json::object& spec = pod.at("spec").as_object();
  EXPECT_EQ(spec.at("serviceAccountName"), "default");
  EXPECT_EQ(spec.at("serviceAccount"), "default");
  ASSERT_EQ(spec.at("volumes").as_array().size(), 1u);
  const json::object& vol = spec.at("volumes").as_array()[0].as_object();
  const std::string name(vol.at("name").as_string());
  EXPECT_EQ(name.rfind("kube-api-access-", 0), 0u);
  EXPECT_EQ(name.size(), 21u);
  const json::array& sources = vol.at("projected").at("sources").as_array();
  EXPECT_EQ(sources[0].at("serviceAccountToken").at("expirationSeconds"), 3607);
  EXPECT_EQ(sources[0].at("serviceAccountToken").at("path"), "token");
  EXPECT_EQ(sources[1].at("configMap").at("name"), "kube-root-ca.crt");
  EXPECT_EQ(sources[2].at("downwardAPI").at("items").as_array()[0].at("fieldRef").at("fieldPath"), "metadata.namespace");
  for (const char* list : {"initContainers", "containers"}) {
    for (const auto& c : spec.at(list).as_array()) {
      const auto& m = c.at("volumeMounts").as_array()[0];
      EXPECT_EQ(m.at("name").as_string(), name);
      EXPECT_EQ(m.at("mountPath"), "/var/run/secrets/kubernetes.io/serviceaccount");
      EXPECT_EQ(m.at("readOnly"), true);
    }
  }
}

TEST(ServiceAccountAdmission, AutomountPodOverridesAccount) {
  json::object quiet = json::parse(R"({"metadata":{"name":"q"},"automountServiceAccountToken":false})").as_object();
  json::object pod = Pod(R"({"serviceAccountName":"q","containers":[{"name":"a"}]})");
  DefaultServiceAccountName(pod);
  ASSERT_TRUE(AdmitServiceAccount(pod, "ns", &quiet).ok());
  EXPECT_FALSE(pod.at("spec").as_object().contains("volumes"));
  pod = Pod(R"({"serviceAccountName":"q","automountServiceAccountToken":true,"containers":[{"name":"a"}]})");
  DefaultServiceAccountName(pod);
  ASSERT_TRUE(AdmitServiceAccount(pod, "ns", &quiet).ok());
  EXPECT_EQ(pod.at("spec").at("volumes").as_array().size(), 1u);
  pod = Pod(R"({"automountServiceAccountToken":false,"containers":[{"name":"a"}]})");
  DefaultServiceAccountName(pod);
  ASSERT_TRUE(AdmitServiceAccount(pod, "ns", &kAccount).ok());
  EXPECT_FALSE(pod.at("spec").as_object().contains("volumes"));
}

TEST(ServiceAccountAdmission, ContainersWithTheirOwnMountAreLeftAlone) {
  json::object pod = Pod(R"({"volumes":[{"name":"mine","emptyDir":{}}],"containers":[
      {"name":"a","volumeMounts":[{"name":"mine","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]}]})");
  DefaultServiceAccountName(pod);
  ASSERT_TRUE(AdmitServiceAccount(pod, "ns", &kAccount).ok());
  EXPECT_EQ(pod.at("spec").at("volumes").as_array().size(), 1u);  // no unused token volume
  EXPECT_EQ(pod.at("spec").at("containers").as_array()[0].at("volumeMounts").as_array().size(), 1u);
}

TEST(ServiceAccountAdmission, MissingNamedAccountIsForbiddenDefaultIsNot) {
  json::object pod = Pod(R"({"serviceAccountName":"ghost","containers":[{"name":"a"}]})");
  DefaultServiceAccountName(pod);
  Status s = AdmitServiceAccount(pod, "ns", nullptr);
  EXPECT_EQ(s.http_code(), 403);
  EXPECT_EQ(s.message(), "pods \"p\" is forbidden: error looking up service account ns/ghost: serviceaccount \"ghost\" not found");
  pod = Pod(R"({"containers":[{"name":"a"}]})");
  DefaultServiceAccountName(pod);
  EXPECT_TRUE(AdmitServiceAccount(pod, "ns", nullptr).ok());
}

TEST(ServiceAccountAdmission, PullSecretsComeFromTheAccountAndMirrorPodsAreLeftAlone) {
  json::object sa = json::parse(R"({"metadata":{"name":"default"},"imagePullSecrets":[{"name":"reg"}]})").as_object();
  json::object pod = Pod(R"({"containers":[{"name":"a"}]})");
  DefaultServiceAccountName(pod);
  ASSERT_TRUE(AdmitServiceAccount(pod, "ns", &sa).ok());
  EXPECT_EQ(pod.at("spec").at("imagePullSecrets").as_array()[0].at("name"), "reg");
  json::object mirror = Pod(R"({"containers":[{"name":"a"}]})");
  mirror["metadata"].as_object()["annotations"] = json::object{{"kubernetes.io/config.mirror", "x"}};
  EXPECT_EQ(DefaultServiceAccountName(mirror), "");
  EXPECT_TRUE(AdmitServiceAccount(mirror, "ns", &sa).ok());
  EXPECT_FALSE(mirror.at("spec").as_object().contains("serviceAccountName"));
  EXPECT_FALSE(mirror.at("spec").as_object().contains("volumes"));
}

}  // namespace
}  // namespace kite::apiserver
