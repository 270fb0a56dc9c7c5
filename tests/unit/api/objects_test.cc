// Tests of the object rules the API server applies on the way in: YAML bodies, schema checks
// (unknown fields, JSON types), defaulting, CRD structural schemas and printer-column JSONPath.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/defaults.h"
#include "api/json_schema.h"
#include "api/resources.h"
#include "api/schema.h"
#include "api/schema_check.h"
#include "api/yaml_json.h"
#include "base/encoding.h"

namespace kite::api {
namespace {
namespace json = boost::json;

json::object Obj(const char* text) { return json::parse(text).as_object(); }

TEST(YamlJson, ScalarsFollowYamlTypesAndQuotesKeepStrings) {
  auto v = YamlToJson("a: 1\nb: true\nc: '1'\nd: ~\ne: 1.5\nf: [x, 2]\ng: \"no\"\nh: 08\n");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(json::serialize(*v), R"({"a":1,"b":true,"c":"1","d":null,"e":1.5E0,"f":["x",2],"g":"no","h":"08"})");
}

TEST(YamlJson, RejectsMalformedMultipleDocumentsAndDeepNesting) {
  EXPECT_FALSE(YamlToJson("a: [unclosed").ok());
  EXPECT_FALSE(YamlToJson("a: 1\n---\nb: 2\n").ok());
  EXPECT_FALSE(YamlToJson(std::string(500, '[')).ok());
  // Alias expansion is bounded ("billion laughs").
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'p'; ++c, ++prev) {
    bomb += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n";
  }
  EXPECT_FALSE(YamlToJson(bomb).ok());
}

TEST(SchemaCheck, DropsAndReportsUnknownFieldsAndNulls) {
  auto pod = Obj(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","creationTimestamp":null,"bogus":1},
                     "spec":{"containers":[{"name":"c","image":"i","junk":true}]},"extra":{}})");
  auto r = CheckAgainstSchema(pod, *schema::TypeForKind("", "v1", "Pod"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->unknown_fields, (std::vector<std::string>{"metadata.bogus", "spec.containers[0].junk", "extra"}));
  EXPECT_EQ(json::serialize(pod), R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]}})");
}

TEST(SchemaCheck, WrongJsonTypesAreErrors) {
  auto cm = Obj(R"({"metadata":{"name":"x"},"data":{"a":1}})");
  auto r = CheckAgainstSchema(cm, *schema::TypeForKind("", "v1", "ConfigMap"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "json: cannot unmarshal number into Go struct field data[a] of type string");
  auto dep = Obj(R"({"spec":{"replicas":"three"}})");
  EXPECT_FALSE(CheckAgainstSchema(dep, *schema::TypeForKind("apps", "v1", "Deployment")).ok());
  auto big = Obj(R"({"spec":{"replicas":4294967296}})");
  EXPECT_FALSE(CheckAgainstSchema(big, *schema::TypeForKind("apps", "v1", "Deployment")).ok());
}

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

TEST(JsonSchema, PrunesValidatesAndHonoursPreserveUnknownFields) {
  auto schema = Obj(R"({"type":"object","properties":{
      "spec":{"type":"object","required":["cron"],"properties":{
        "cron":{"type":"string","pattern":"^\\S+$"},"replicas":{"type":"integer","minimum":1,"maximum":10},
        "mode":{"type":"string","enum":["a","b"]},"free":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
        "port":{"x-kubernetes-int-or-string":true}}}}})");
  auto cr = Obj(R"({"apiVersion":"x/v1","kind":"X","metadata":{"name":"n","anything":1},
                    "spec":{"cron":"* *","replicas":50,"mode":"c","free":{"k":1},"port":"http","junk":1}})");
  auto r = CheckAgainstJsonSchema(cr, schema);
  EXPECT_EQ(r.unknown_fields, (std::vector<std::string>{"spec.junk"}));
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].field, "spec.cron");
  EXPECT_EQ(r.errors[1].message, "Invalid value: 50: spec.replicas in body should be less than or equal to 10");
  EXPECT_EQ(r.errors[2].reason, "FieldValueNotSupported");
  EXPECT_TRUE(cr["spec"].as_object()["free"].as_object().contains("k"));
  EXPECT_TRUE(cr["metadata"].as_object().contains("anything"));  // metadata is the server's business
  auto missing = Obj(R"({"spec":{}})");
  auto m = CheckAgainstJsonSchema(missing, schema);
  ASSERT_EQ(m.errors.size(), 1u);
  EXPECT_EQ(m.errors[0].field, "spec.cron");
  EXPECT_EQ(m.errors[0].message, "Required value");
}

TEST(JsonPath, PrinterColumnSubset) {
  json::value v = json::parse(R"({"spec":{"replicas":3},"status":{"conditions":[
      {"type":"Ready","status":"True"},{"type":"Synced","status":"False"}]},"items":[{"n":1},{"n":2}]})");
  EXPECT_EQ(json::serialize(json::value_from(EvalJsonPath(v, ".spec.replicas"))), "[3]");
  EXPECT_EQ(json::serialize(json::value_from(EvalJsonPath(v, ".status.conditions[?(@.type==\"Ready\")].status"))), R"(["True"])");
  EXPECT_EQ(json::serialize(json::value_from(EvalJsonPath(v, ".items[*].n"))), "[1,2]");
  EXPECT_EQ(json::serialize(json::value_from(EvalJsonPath(v, ".items[1].n"))), "[2]");
  EXPECT_TRUE(EvalJsonPath(v, ".nope.x").empty());
  EXPECT_TRUE(EvalJsonPath(v, "spec[").empty());
}

}  // namespace
}  // namespace kite::api

namespace kite {
namespace {
TEST(Base64, RejectsBadPaddingInsteadOfUnderflowing) {
  EXPECT_FALSE(Base64Decode("====").has_value());
  EXPECT_FALSE(Base64Decode("a===").has_value());
  EXPECT_EQ(Base64Decode("YQ==").value(), "a");
  EXPECT_EQ(Base64Decode("YWJj").value(), "abc");
}
}  // namespace
}  // namespace kite
