// AppArmor as upstream's kubelet takes it: the container's field, the deprecated annotation, the
// pod's field; admission on a host without AppArmor.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "agent/kubelet/apparmor.h"

namespace kite::kubelet {
namespace {

boost::json::object Pod(const std::string& container_sc, const std::string& pod_sc = "{}", const std::string& annotations = "{}") {
  return boost::json::parse(R"({"metadata":{"name":"p","annotations":)" + annotations + R"(},"spec":{"securityContext":)" +
                            pod_sc + R"(,"containers":[{"name":"c","securityContext":)" + container_sc + "}]}}")
      .as_object();
}

const boost::json::object& C(const boost::json::object& pod) {
  return pod.at("spec").at("containers").as_array()[0].as_object();
}

TEST(AppArmor, ContainerThenAnnotationThenPod) {
  using Type = cri::SecurityProfile::Type;
  auto none = Pod("{}");
  auto r = AppArmorProfileFor(none, C(none));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());  // the runtime's default

  auto pod_only = Pod("{}", R"({"appArmorProfile":{"type":"RuntimeDefault"}})");
  r = AppArmorProfileFor(pod_only, C(pod_only));
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->type, Type::kRuntimeDefault);

  auto annotated = Pod("{}", R"({"appArmorProfile":{"type":"RuntimeDefault"}})",
                       R"({"container.apparmor.security.beta.kubernetes.io/c":"localhost/k8s-nginx"})");
  r = AppArmorProfileFor(annotated, C(annotated));
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->type, Type::kLocalhost);
  EXPECT_EQ((*r)->localhost_ref, "k8s-nginx");

  auto own = Pod(R"({"appArmorProfile":{"type":"Unconfined"}})", R"({"appArmorProfile":{"type":"RuntimeDefault"}})",
                 R"({"container.apparmor.security.beta.kubernetes.io/c":"runtime/default"})");
  r = AppArmorProfileFor(own, C(own));
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->type, Type::kUnconfined);

  auto bad = Pod(R"({"appArmorProfile":{"type":"Localhost"}})");
  EXPECT_FALSE(AppArmorProfileFor(bad, C(bad)).ok());
  auto odd = Pod("{}", "{}", R"({"container.apparmor.security.beta.kubernetes.io/c":"strict"})");
  EXPECT_FALSE(AppArmorProfileFor(odd, C(odd)).ok());
}

TEST(AppArmor, AdmissionWithoutAppArmorOnTheHost) {
  const std::string no = "Cannot enforce AppArmor: AppArmor is not enabled on the host";
  EXPECT_EQ(AdmitAppArmor(Pod("{}"), false), std::nullopt);
  EXPECT_EQ(AdmitAppArmor(Pod(R"({"appArmorProfile":{"type":"Unconfined"}})"), false), std::nullopt);
  EXPECT_EQ(AdmitAppArmor(Pod(R"({"appArmorProfile":{"type":"RuntimeDefault"}})"), false), no);
  EXPECT_EQ(AdmitAppArmor(Pod("{}", R"({"appArmorProfile":{"type":"Localhost","localhostProfile":"x"}})"), false), no);
  EXPECT_EQ(AdmitAppArmor(Pod("{}", "{}", R"({"container.apparmor.security.beta.kubernetes.io/c":"runtime/default"})"), false), no);
  EXPECT_EQ(AdmitAppArmor(Pod("{}", "{}", R"({"container.apparmor.security.beta.kubernetes.io/c":"unconfined"})"), false), std::nullopt);
  EXPECT_EQ(AdmitAppArmor(Pod("{}", "{}", R"({"container.apparmor.security.beta.kubernetes.io/gone":"localhost/x"})"), false), no);
  EXPECT_EQ(AdmitAppArmor(Pod(R"({"appArmorProfile":{"type":"RuntimeDefault"}})"), true), std::nullopt);
}

}  // namespace
}  // namespace kite::kubelet
