// The sandbox config the kubelet gives the runtime: hostname, log dir, namespaces, DNS policies,
// hostPorts, the QoS cgroup, labels.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <unistd.h>

#include "agent/kubelet/container_config.h"

namespace kite::kubelet {
namespace {

namespace json = boost::json;

json::object Pod(const std::string& spec = "{}", const std::string& extra_meta = "") {
  return json::parse(R"({"metadata":{"name":"web-1","namespace":"shop","uid":"u-1")" + extra_meta + R"(},"spec":)" + spec + "}")
      .as_object();
}

NodeConfig Node() {
  NodeConfig n;
  n.node_name = "n1";
  n.cluster_dns = {"10.43.0.10"};
  n.cluster_domain = "cluster.local";
  n.host_dns = ParseResolvConf("# host\nnameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch lan example.org\noptions edns0\n");
  return n;
}

TEST(ResolvConf, Parses) {
  auto c = ParseResolvConf("nameserver 1.1.1.1 ; comment\nsearch a b\nsearch c d\noptions ndots:2 rotate\noptions timeout:1\n\n#x\nbogus\n");
  EXPECT_EQ(c.servers, (std::vector<std::string>{"1.1.1.1"}));
  EXPECT_EQ(c.searches, (std::vector<std::string>{"c", "d"}));  // the last search line wins
  EXPECT_EQ(c.options, (std::vector<std::string>{"ndots:2", "rotate", "timeout:1"}));
}

TEST(ResolvConf, ReadsAFile) {
  char path[] = "/tmp/kite-resolv-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "nameserver 9.9.9.9\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  auto c = ReadResolvConf(path);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->servers, (std::vector<std::string>{"9.9.9.9"}));
  unlink(path);
  EXPECT_FALSE(ReadResolvConf(path).ok());
  auto none = ReadResolvConf("");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->servers.empty());
}

TEST(SandboxConfig, MetadataHostnameLogsLabels) {
  auto c = BuildSandboxConfig(Pod(R"({"containers":[{"name":"a"}]})", R"(,"labels":{"app":"web"},"annotations":{"x":"y"})"), Node());
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->metadata.name, "web-1");
  EXPECT_EQ(c->metadata.namespace_, "shop");
  EXPECT_EQ(c->metadata.uid, "u-1");
  EXPECT_EQ(c->hostname, "web-1");
  EXPECT_EQ(c->log_directory, "/var/log/pods/shop_web-1_u-1");
  EXPECT_EQ(c->labels.at("app"), "web");
  EXPECT_EQ(c->labels.at("io.kubernetes.pod.name"), "web-1");
  EXPECT_EQ(c->labels.at("io.kubernetes.pod.namespace"), "shop");
  EXPECT_EQ(c->labels.at("io.kubernetes.pod.uid"), "u-1");
  EXPECT_EQ(c->annotations.at("x"), "y");
  EXPECT_EQ(c->cgroup_parent, "/kubepods/besteffort/podu-1");
  EXPECT_FALSE(c->host_network);

  NodeConfig n = Node();
  n.pod_logs_root = "/data/logs/";
  auto d = BuildSandboxConfig(Pod(R"({"hostname":"db","subdomain":"dbs","hostNetwork":false})"), n);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->hostname, "db");
  EXPECT_EQ(d->log_directory, "/data/logs/shop_web-1_u-1");
  auto fqdn = BuildSandboxConfig(Pod(R"({"hostname":"db","subdomain":"dbs","setHostnameAsFQDN":true})"), n);
  ASSERT_TRUE(fqdn.ok());
  EXPECT_EQ(fqdn->hostname, "db.dbs.shop.svc.cluster.local");
}

TEST(SandboxConfig, SharedPidAndSysctls) {
  auto c = BuildSandboxConfig(Pod(R"({"shareProcessNamespace":true,"securityContext":{"sysctls":[
      {"name":"net.ipv4.ip_unprivileged_port_start","value":"0"},{"name":"kernel/shm_rmid_forced","value":"1"}]}})"), Node());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->share_pid);
  EXPECT_EQ(c->sysctls, (cri::Labels{{"kernel.shm_rmid_forced", "1"}, {"net.ipv4.ip_unprivileged_port_start", "0"}}));
}

TEST(SandboxConfig, SeccompIsThePods) {
  auto none = BuildSandboxConfig(Pod(R"({"containers":[{"name":"a"}]})"), Node());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->seccomp.type, cri::SecurityProfile::Type::kUnconfined);
  // A container's own profile is not the sandbox's.
  auto pod = BuildSandboxConfig(Pod(R"({"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},
      "containers":[{"name":"a","securityContext":{"seccompProfile":{"type":"Unconfined"}}}]})"), Node());
  ASSERT_TRUE(pod.ok());
  EXPECT_EQ(pod->seccomp.type, cri::SecurityProfile::Type::kRuntimeDefault);
  EXPECT_FALSE(BuildSandboxConfig(Pod(R"({"securityContext":{"seccompProfile":{"type":"Localhost","localhostProfile":"../x"}}})"), Node()).ok());
}

// The pause container runs as the pod's user and groups (upstream's sandbox security context);
// a pod without them leaves the image's user.
TEST(SandboxConfig, ThePodsUserAndGroups) {
  auto c = BuildSandboxConfig(Pod(R"({"securityContext":{"runAsUser":1000,"runAsGroup":3000,"fsGroup":2000,
      "supplementalGroups":[4000,4001]}})"), Node());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->run_as_user, std::optional<int64_t>(1000));
  EXPECT_EQ(c->run_as_group, std::optional<int64_t>(3000));
  EXPECT_EQ(c->supplemental_groups, (std::vector<int64_t>{2000, 4000, 4001}));
  auto plain = BuildSandboxConfig(Pod(R"({"containers":[{"name":"a","securityContext":{"runAsUser":5}}]})"), Node());
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->run_as_user.has_value());  // a container's own user is not the sandbox's
  EXPECT_FALSE(plain->run_as_group.has_value());
  EXPECT_TRUE(plain->supplemental_groups.empty());
}

TEST(SandboxConfig, LongNameTruncatedAndBadHostnameRefused) {
  const std::string name(70, 'a');
  auto pod = json::parse(R"({"metadata":{"name":")" + name.substr(0, 62) + R"(-bbbbbbb","namespace":"n","uid":"u"},"spec":{}})").as_object();
  auto c = BuildSandboxConfig(pod, Node());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->hostname, name.substr(0, 62));  // 63 chars ending in '-': the '-' is trimmed
  auto bad = BuildSandboxConfig(Pod(R"({"hostname":"Not_A_Label"})"), Node());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("is not a valid DNS label"), std::string::npos);
  auto too_long = BuildSandboxConfig(Pod(R"({"hostname":")" + std::string(40, 'h') + R"(","subdomain":"s","setHostnameAsFQDN":true})"), Node());
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().message().find("is too long (64 characters is the max"), std::string::npos);
  // No metadata: refused, not a crash.
  EXPECT_FALSE(BuildSandboxConfig(json::object{}, Node()).ok());
}

TEST(SandboxConfig, HostNamespacesAndPorts) {
  auto c = BuildSandboxConfig(Pod(R"({"hostNetwork":true,"hostPID":true,"hostIPC":true,"containers":[
      {"name":"a","ports":[{"containerPort":80,"hostPort":8080},{"containerPort":53,"hostPort":5353,"protocol":"UDP","hostIP":"127.0.0.1"},
                           {"containerPort":9090}]},
      {"name":"b","ports":[{"containerPort":443,"hostPort":8443,"protocol":"SCTP"}]}]})"),
                              Node());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->host_network);
  EXPECT_TRUE(c->host_pid);
  EXPECT_TRUE(c->host_ipc);
  EXPECT_EQ(c->hostname, "");  // the node's
  ASSERT_EQ(c->port_mappings.size(), 3u);  // the port without hostPort is not mapped
  EXPECT_EQ(c->port_mappings[0].host_port, 8080);
  EXPECT_EQ(c->port_mappings[0].container_port, 80);
  EXPECT_EQ(c->port_mappings[0].protocol, cri::Protocol::kTCP);
  EXPECT_EQ(c->port_mappings[1].protocol, cri::Protocol::kUDP);
  EXPECT_EQ(c->port_mappings[1].host_ip, "127.0.0.1");
  EXPECT_EQ(c->port_mappings[2].protocol, cri::Protocol::kSCTP);
  EXPECT_FALSE(BuildSandboxConfig(Pod(R"({"containers":[{"name":"a","ports":[{"containerPort":0,"hostPort":80}]}]})"), Node()).ok());
  EXPECT_FALSE(BuildSandboxConfig(Pod(R"({"containers":[{"name":"a","ports":[{"containerPort":1,"hostPort":70000}]}]})"), Node()).ok());
}

TEST(SandboxConfig, CgroupParentByQoS) {
  auto g = BuildSandboxConfig(Pod(R"({"containers":[{"name":"a","resources":{"limits":{"cpu":"1","memory":"1Gi"}}}]})"), Node());
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->cgroup_parent, "/kubepods/podu-1");
  auto b = BuildSandboxConfig(Pod(R"({"containers":[{"name":"a","resources":{"requests":{"cpu":"1"}}}]})"), Node());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->cgroup_parent, "/kubepods/burstable/podu-1");
}

TEST(PodDNS, ClusterFirst) {
  std::vector<PodEvent> events;
  auto c = BuildSandboxConfig(Pod(R"({"dnsPolicy":"ClusterFirst"})"), Node(), &events);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->dns_config.has_value());
  EXPECT_EQ(c->dns_config->servers, (std::vector<std::string>{"10.43.0.10"}));
  EXPECT_EQ(c->dns_config->searches,
            (std::vector<std::string>{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "lan", "example.org"}));
  EXPECT_EQ(c->dns_config->options, (std::vector<std::string>{"ndots:5"}));
  EXPECT_TRUE(events.empty());
  // Unset policy is ClusterFirst.
  auto d = BuildSandboxConfig(Pod("{}"), Node());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->dns_config->servers, (std::vector<std::string>{"10.43.0.10"}));
}

TEST(PodDNS, HostNetworkUsesHostUnlessClusterFirstWithHostNet) {
  auto c = BuildSandboxConfig(Pod(R"({"hostNetwork":true,"dnsPolicy":"ClusterFirst"})"), Node());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->dns_config->servers, (std::vector<std::string>{"192.168.1.1", "192.168.1.2"}));
  EXPECT_EQ(c->dns_config->searches, (std::vector<std::string>{"lan", "example.org"}));
  EXPECT_EQ(c->dns_config->options, (std::vector<std::string>{"edns0"}));
  auto w = BuildSandboxConfig(Pod(R"({"hostNetwork":true,"dnsPolicy":"ClusterFirstWithHostNet"})"), Node());
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->dns_config->servers, (std::vector<std::string>{"10.43.0.10"}));
}

TEST(PodDNS, DefaultAndNoneAndDnsConfigMerge) {
  auto d = BuildSandboxConfig(Pod(R"({"dnsPolicy":"Default"})"), Node());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->dns_config->servers, (std::vector<std::string>{"192.168.1.1", "192.168.1.2"}));
  NodeConfig no_host = Node();
  no_host.host_dns.reset();  // --resolv-conf ""
  auto rt = BuildSandboxConfig(Pod(R"({"dnsPolicy":"Default"})"), no_host);
  ASSERT_TRUE(rt.ok());
  EXPECT_EQ(rt->dns_config->servers, (std::vector<std::string>{"127.0.0.1"}));
  EXPECT_EQ(rt->dns_config->searches, (std::vector<std::string>{"."}));
  auto rt_cluster = BuildSandboxConfig(Pod("{}"), no_host);
  ASSERT_TRUE(rt_cluster.ok());
  EXPECT_EQ(rt_cluster->dns_config->searches,
            (std::vector<std::string>{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"}));

  auto none = BuildSandboxConfig(Pod(R"({"dnsPolicy":"None","dnsConfig":{"nameservers":["1.1.1.1"],"searches":["a.b"],
      "options":[{"name":"ndots","value":"2"},{"name":"edns0"}]}})"), Node());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->dns_config->servers, (std::vector<std::string>{"1.1.1.1"}));
  EXPECT_EQ(none->dns_config->searches, (std::vector<std::string>{"a.b"}));
  EXPECT_EQ(none->dns_config->options, (std::vector<std::string>{"ndots:2", "edns0"}));

  auto merged = BuildSandboxConfig(Pod(R"({"dnsConfig":{"nameservers":["10.43.0.10","8.8.8.8"],"searches":["lan","extra"],
      "options":[{"name":"ndots","value":"1"},{"name":"single-request"}]}})"), Node());
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->dns_config->servers, (std::vector<std::string>{"10.43.0.10", "8.8.8.8"}));
  EXPECT_EQ(merged->dns_config->searches, (std::vector<std::string>{"shop.svc.cluster.local", "svc.cluster.local",
                                                                     "cluster.local", "lan", "example.org", "extra"}));
  EXPECT_EQ(merged->dns_config->options, (std::vector<std::string>{"ndots:1", "single-request"}));

  EXPECT_FALSE(BuildSandboxConfig(Pod(R"({"dnsPolicy":"Bogus"})"), Node()).ok());
}

TEST(PodDNS, ClusterFirstWithoutClusterDNSFallsBackToDefaultWithAWarning) {
  NodeConfig n = Node();
  n.cluster_dns.clear();
  std::vector<PodEvent> events;
  auto c = BuildSandboxConfig(Pod("{}"), n, &events);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->dns_config->servers, (std::vector<std::string>{"192.168.1.1", "192.168.1.2"}));
  EXPECT_EQ(c->dns_config->searches, (std::vector<std::string>{"lan", "example.org"}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "Warning");
  EXPECT_EQ(events[0].reason, "MissingClusterDNS");
  EXPECT_EQ(events[0].message,
            "pod: \"web-1_shop(u-1)\". kubelet does not have ClusterDNS IP configured and cannot create Pod using "
            "\"ClusterFirst\" policy. Falling back to \"Default\" policy.");
  events.clear();
  auto w = BuildSandboxConfig(Pod(R"({"hostNetwork":true,"dnsPolicy":"ClusterFirstWithHostNet"})"), n, &events);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].message.find("using \"ClusterFirst\" policy"), std::string::npos);  // upstream names ClusterFirst
}

TEST(PodDNS, LimitsTrimmed) {
  std::string searches;
  for (int i = 0; i < 40; ++i) searches += std::string(i ? "," : "") + "\"s" + std::to_string(i) + ".example\"";
  std::vector<PodEvent> events;
  auto c = BuildSandboxConfig(Pod(R"({"dnsPolicy":"None","dnsConfig":{"nameservers":["1.1.1.1","1.1.1.2","1.1.1.3","1.1.1.4"],
      "searches":[)" + searches + "]}}"), Node(), &events);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->dns_config->servers.size(), 3u);
  EXPECT_EQ(c->dns_config->searches.size(), 32u);
  EXPECT_EQ(events.size(), 2u);
}

}  // namespace
}  // namespace kite::kubelet
