// The DaemonSet controller's pure logic: which nodes run a daemon pod, its automatic
// tolerations and how it is pinned to its node.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/controllers/daemonset/daemon_pod.h"

namespace kite::controllers {
namespace {
namespace json = boost::json;

json::object Parse(const char* text) { return json::parse(text).as_object(); }

TEST(DaemonPod, AutomaticTolerations) {
  json::object spec = AddDaemonTolerations(Parse(R"({"tolerations":[
      {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":30}]})"));
  const auto& tol = spec.at("tolerations").as_array();
  ASSERT_EQ(tol.size(), 6u);
  // The user's own toleration for the same key and effect is kept as it was.
  EXPECT_EQ(tol[0].as_object().at("tolerationSeconds"), 30);
  json::object host = AddDaemonTolerations(Parse(R"({"hostNetwork":true})"));
  EXPECT_EQ(host.at("tolerations").as_array().size(), 7u);
  EXPECT_EQ(host.at("tolerations").as_array()[6].as_object().at("key"), "node.kubernetes.io/network-unavailable");
}

TEST(DaemonPod, PinnedByNodeAffinity) {
  json::object spec = PinToNode(Parse(R"({"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":
      {"nodeSelectorTerms":[{"matchExpressions":[{"key":"disk","operator":"In","values":["ssd"]}],
                             "matchFields":[{"key":"metadata.name","operator":"In","values":["old"]}]}]}}}})"),
                                "n1");
  const auto& term = spec.at("affinity").at("nodeAffinity").at("requiredDuringSchedulingIgnoredDuringExecution")
                         .at("nodeSelectorTerms").as_array()[0].as_object();
  EXPECT_EQ(term.at("matchExpressions").as_array().size(), 1u);
  EXPECT_EQ(json::serialize(term.at("matchFields")), R"([{"key":"metadata.name","operator":"In","values":["n1"]}])");
  json::object pod{{"spec", spec}};
  EXPECT_EQ(DaemonPodNodeName(pod), "n1");
  EXPECT_EQ(DaemonPodNodeName(Parse(R"({"spec":{"nodeName":"bound"}})")), "bound");
  EXPECT_EQ(DaemonPodNodeName(Parse(R"({"spec":{}})")), "");
}

TEST(DaemonPod, TolerationMatching) {
  json::object taint = Parse(R"({"key":"dedicated","value":"gpu","effect":"NoSchedule"})");
  EXPECT_TRUE(Tolerates(Parse(R"({"operator":"Exists"})"), taint));
  EXPECT_TRUE(Tolerates(Parse(R"({"key":"dedicated","operator":"Exists","effect":"NoSchedule"})"), taint));
  EXPECT_TRUE(Tolerates(Parse(R"({"key":"dedicated","value":"gpu"})"), taint));  // Equal by default
  EXPECT_FALSE(Tolerates(Parse(R"({"key":"dedicated","value":"cpu"})"), taint));
  EXPECT_FALSE(Tolerates(Parse(R"({"key":"dedicated","operator":"Exists","effect":"NoExecute"})"), taint));
  EXPECT_FALSE(Tolerates(Parse(R"({"key":"other","operator":"Exists"})"), taint));
}

TEST(DaemonPod, WhichNodesRunIt) {
  const json::object spec = AddDaemonTolerations(Parse(R"({"nodeSelector":{"role":"edge"},
      "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
        {"matchExpressions":[{"key":"cores","operator":"Gt","values":["2"]}]}]}}}})"));
  auto node = [](const char* labels, const char* taints) {
    return Parse((std::string(R"({"metadata":{"name":"n","labels":)") + labels + R"(},"spec":{"taints":)" + taints + "}}")
                     .c_str());
  };
  NodeFit fit = NodeShouldRunDaemonPod(node(R"({"role":"edge","cores":"4"})", "[]"), spec);
  EXPECT_TRUE(fit.should_run && fit.should_continue_running);
  fit = NodeShouldRunDaemonPod(node(R"({"role":"core","cores":"4"})", "[]"), spec);
  EXPECT_FALSE(fit.should_run || fit.should_continue_running);  // nodeSelector
  fit = NodeShouldRunDaemonPod(node(R"({"role":"edge","cores":"2"})", "[]"), spec);
  EXPECT_FALSE(fit.should_run || fit.should_continue_running);  // affinity Gt
  // Cordoned, not ready, under pressure: tolerated automatically.
  fit = NodeShouldRunDaemonPod(node(R"({"role":"edge","cores":"4"})",
                                    R"([{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"},
                                        {"key":"node.kubernetes.io/not-ready","effect":"NoExecute"},
                                        {"key":"node.kubernetes.io/memory-pressure","effect":"NoSchedule"}])"),
                               spec);
  EXPECT_TRUE(fit.should_run);
  fit = NodeShouldRunDaemonPod(node(R"({"role":"edge","cores":"4"})", R"([{"key":"gpu","effect":"NoSchedule"}])"), spec);
  EXPECT_FALSE(fit.should_run);
  EXPECT_TRUE(fit.should_continue_running);  // NoSchedule does not evict
  fit = NodeShouldRunDaemonPod(node(R"({"role":"edge","cores":"4"})", R"([{"key":"gpu","effect":"NoExecute"}])"), spec);
  EXPECT_FALSE(fit.should_run || fit.should_continue_running);
  fit = NodeShouldRunDaemonPod(node(R"({"role":"edge","cores":"4"})", R"([{"key":"gpu","effect":"PreferNoSchedule"}])"), spec);
  EXPECT_TRUE(fit.should_run);
  // The network-unavailable taint stops pods that do not use the host network.
  fit = NodeShouldRunDaemonPod(node(R"({"role":"edge","cores":"4"})",
                                    R"([{"key":"node.kubernetes.io/network-unavailable","effect":"NoSchedule"}])"),
                               spec);
  EXPECT_FALSE(fit.should_run);
}

}  // namespace
}  // namespace kite::controllers
