// api/defaults: upstream's defaults for built-in kinds (pods, deployments, services, jobs,
// namespaces), and bodies missing the parts defaulting writes into.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/defaults.h"
#include "api/resources.h"

namespace kite::api {
namespace {
namespace json = boost::json;

json::object Obj(const char* text) { return json::parse(text).as_object(); }

TEST(Defaults, PodAndDeploymentDefaultsAsUpstream) {
  auto pod = Obj(R"({"spec":{"containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80}]},
                                           {"name":"d","image":"busybox:1.36"}]}})");
  ApplyDefaults(*FindResource("", "v1", "pods"), pod);
  const auto& spec = pod["spec"].as_object();
  EXPECT_EQ(spec.at("restartPolicy"), "Always");
  EXPECT_EQ(spec.at("dnsPolicy"), "ClusterFirst");
  EXPECT_EQ(spec.at("schedulerName"), "default-scheduler");
  const auto& c0 = spec.at("containers").as_array()[0].as_object();
  EXPECT_EQ(c0.at("imagePullPolicy"), "Always");  // no tag means :latest
  EXPECT_EQ(spec.at("containers").as_array()[1].as_object().at("imagePullPolicy"), "IfNotPresent");
  EXPECT_EQ(c0.at("ports").as_array()[0].as_object().at("protocol"), "TCP");
  auto dep = Obj(R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"i"}]}}}})");
  ApplyDefaults(*FindResource("apps", "v1", "deployments"), dep);
  EXPECT_EQ(dep["spec"].as_object().at("replicas"), 1);
  EXPECT_EQ(json::serialize(dep["spec"].as_object().at("strategy")),
            R"({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}})");
  auto svc = Obj(R"({"spec":{"ports":[{"port":80,"targetPort":0}]}})");
  ApplyDefaults(*FindResource("", "v1", "services"), svc);
  EXPECT_EQ(svc["spec"].as_object().at("ports").as_array()[0].as_object().at("targetPort"), 80);
  auto job = Obj(R"({"spec":{"parallelism":3,"template":{"spec":{"containers":[]}}}})");
  ApplyDefaults(*FindResource("batch", "v1", "jobs"), job);
  EXPECT_FALSE(job["spec"].as_object().contains("completions"));  // a work queue stays one
}

TEST(Defaults, NamespaceWithoutMetadataOrNameDoesNotCrash) {
  // `{}` once crashed the server here: a reference into metadata.labels outlived an insertion
  // into metadata. Validation rejects the nameless object afterwards.
  for (const char* text : {"{}", R"({"metadata":{}})", R"({"metadata":{"labels":{"a":"b"}}})"}) {
    auto ns = Obj(text);
    ApplyDefaults(*FindResource("", "v1", "namespaces"), ns);
    EXPECT_EQ(ns["spec"].as_object().at("finalizers").as_array().size(), 1u) << text;
  }
  auto named = Obj(R"({"metadata":{"name":"x"}})");
  ApplyDefaults(*FindResource("", "v1", "namespaces"), named);
  EXPECT_EQ(named["metadata"].as_object().at("labels").as_object().at("kubernetes.io/metadata.name"), "x");
}

}  // namespace
}  // namespace kite::api
