// The metrics server end to end without a network: Nodes and Pods on the fake API, kubelets
// behind a canned KubeletSource, and the metrics.k8s.io answers built from them.
#include "server/metricsserver/metrics_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>

#include "client/testing/fake_transport.h"

namespace kite::metricsserver {
namespace {
namespace json = boost::json;

// Every fetch is one second after the previous one, with 0.5 cores of node CPU and 0.25 of the
// container's in between, so any two consecutive scrapes give the same rates.
class CannedKubelets final : public KubeletSource {
 public:
  Result<std::string> Fetch(const NodeTarget& node, std::chrono::steady_clock::time_point) override {
    if (node.host != "10.0.0.1" || node.port != 10255) return Status(Code::kUnavailable, "connection refused");
    const int64_t n = ++fetches;
    const std::string ts = " " + std::to_string(1'733'400'000'000 + n * 1000) + "\n";
    return "node_cpu_usage_seconds_total " + std::to_string(n * 0.5) + ts +
           "node_memory_working_set_bytes 1073741824" + ts +
           "container_cpu_usage_seconds_total{container=\"c\",namespace=\"default\",pod=\"web\"} " +
           std::to_string(n * 0.25) + ts +
           "container_memory_working_set_bytes{container=\"c\",namespace=\"default\",pod=\"web\"} 52428800" + ts;
  }
  std::atomic<int64_t> fetches{0};
};

json::object J(std::string_view text) { return json::parse(text).as_object(); }

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = std::make_shared<client::testing::FakeTransport>();
    fake_->Add(J(R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","labels":{"tier":"edge"}},
                     "status":{"addresses":[{"type":"Hostname","address":"n1"},{"type":"InternalIP","address":"10.0.0.1"}],
                               "daemonEndpoints":{"kubeletEndpoint":{"Port":10255}}}})"));
    fake_->Add(J(R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n2"},
                     "status":{"addresses":[{"type":"InternalIP","address":"10.0.0.2"}]}})"));
    fake_->Add(J(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"default","labels":{"app":"web"}},
                     "spec":{"nodeName":"n1","containers":[{"name":"c","image":"x"}]}})"));
    auto source = std::make_unique<CannedKubelets>();
    kubelets_ = source.get();
    MetricsServerOptions o;
    o.resolution = std::chrono::milliseconds(0);  // no loop: the test scrapes by hand
    server_ = MetricsServer::Start(fake_, std::move(source), o);
    ASSERT_TRUE(server_->WaitForSync(std::chrono::seconds(10)));
    server_->ScrapeOnce();
    server_->ScrapeOnce();
  }
  Result<json::object> Serve(std::string verb, std::string resource, std::string ns = "", std::string name = "",
                             std::string labels = "", std::string fields = "") {
    return server_->Serve({verb, resource, ns, name, labels, fields});
  }
  std::shared_ptr<client::testing::FakeTransport> fake_;
  CannedKubelets* kubelets_ = nullptr;
  std::unique_ptr<MetricsServer> server_;
};

TEST_F(MetricsServerTest, TargetsAreTheInternalIpAndTheKubeletPort) {
  auto t = TargetOf(J(R"({"metadata":{"name":"n"},"status":{"addresses":[{"type":"Hostname","address":"h"},
                          {"type":"ExternalIP","address":"1.2.3.4"},{"type":"InternalIP","address":"10.1.1.1"}]}})"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "10.1.1.1");
  EXPECT_EQ(t->port, 10250);  // no daemonEndpoints: the kubelet's default
  EXPECT_FALSE(TargetOf(J(R"({"metadata":{"name":"n"},"status":{}})")));
}

TEST_F(MetricsServerTest, NodeMetricsAsMetricsServerWritesThem) {
  auto n = Serve("get", "nodes", "", "n1");
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n->at("kind"), "NodeMetrics");
  EXPECT_EQ(n->at("apiVersion"), "metrics.k8s.io/v1beta1");
  EXPECT_EQ(n->at("metadata").at("name"), "n1");
  EXPECT_EQ(n->at("metadata").at("labels").at("tier"), "edge");
  EXPECT_EQ(n->at("window"), "1s");
  EXPECT_EQ(json::serialize(n->at("usage")), R"({"cpu":"500m","memory":"1Gi"})");
  // n2's kubelet does not answer: no metrics, 404 on get, absent from lists.
  auto missing = Serve("get", "nodes", "", "n2");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().http_code(), 404);
  EXPECT_EQ(missing.status().message(), "nodemetrics.metrics.k8s.io \"n2\" not found");
  auto list = Serve("list", "nodes");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->at("kind"), "NodeMetricsList");
  ASSERT_EQ(list->at("items").as_array().size(), 1u);
}

TEST_F(MetricsServerTest, PodMetricsWithSelectors) {
  auto p = Serve("get", "pods", "default", "web");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(json::serialize(p->at("containers")), R"([{"name":"c","usage":{"cpu":"250m","memory":"50Mi"}}])");
  EXPECT_EQ(Serve("list", "pods", "default", "", "app=web")->at("items").as_array().size(), 1u);
  EXPECT_EQ(Serve("list", "pods", "", "", "app=db")->at("items").as_array().size(), 0u);
  EXPECT_EQ(Serve("list", "pods", "other")->at("items").as_array().size(), 0u);
  EXPECT_EQ(Serve("list", "pods", "", "", "", "metadata.name=web")->at("items").as_array().size(), 1u);
  EXPECT_EQ(Serve("list", "pods", "", "", "", "metadata.name=x")->at("items").as_array().size(), 0u);
  auto bad = Serve("list", "pods", "", "", "app in (");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().http_code(), 400);
  EXPECT_EQ(Serve("list", "pods", "", "", "", "spec.nodeName=n1").status().http_code(), 400);
  EXPECT_EQ(Serve("get", "pods", "default", "nope").status().message(),
            "podmetrics.metrics.k8s.io \"default/nope\" not found");
  EXPECT_EQ(Serve("delete", "pods", "default", "web").status().http_code(), 405);
}

}  // namespace
}  // namespace kite::metricsserver
