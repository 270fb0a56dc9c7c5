// The container config the kubelet gives the runtime: env (valueFrom, envFrom, service links,
// $(VAR) expansion), command/args, resources, security context, labels, mounts, log path.
#include <algorithm>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "agent/kubelet/container_config.h"
#include "api/object.h"

namespace kite::kubelet {
namespace {

namespace json = boost::json;
using Env = std::vector<std::pair<std::string, std::string>>;

json::object Parse(const std::string& s) { return json::parse(s).as_object(); }

json::object Pod(const std::string& containers, const std::string& extra_spec = "") {
  return Parse(R"({"metadata":{"name":"web-1","namespace":"shop","uid":"u-1","labels":{"app":"web","tier":"fe"},
    "annotations":{"note":"hi"}},
    "spec":{"nodeName":"n1","serviceAccountName":"robot","containers":)" + containers + extra_spec + R"(},
    "status":{"hostIP":"192.168.1.5","podIP":"10.42.0.7","podIPs":[{"ip":"10.42.0.7"},{"ip":"fd00::7"}]}})");
}

class ContainerConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_.node_name = "n1";
    node_.allocatable_milli_cpu = 2000;
    node_.allocatable_memory = 4LL << 30;
    node_.memory_capacity = 8LL << 30;
    lookup_.config_maps["shop/cfg"] = Parse(R"({"metadata":{"name":"cfg"},"data":{"mode":"fast","LEVEL":"3","bad key":"x","1st":"y"}})");
    lookup_.secrets["shop/creds"] = Parse(R"({"metadata":{"name":"creds"},"data":{"password":"czNjcjN0","user":"YWRtaW4="}})");
  }
  Result<cri::ContainerConfig> Build(const json::object& pod, ContainerContext ctx = {}) {
    events_.clear();
    return BuildContainerConfig(pod, pod.at("spec").at("containers").as_array()[0].as_object(), ctx, node_, lookup_, &events_);
  }
  static std::string Get(const Env& env, const std::string& name) {
    for (const auto& [k, v] : env) {
      if (k == name) return v;
    }
    return "<unset>";
  }
  NodeConfig node_;
  MapLookup lookup_;
  std::vector<PodEvent> events_;
};

TEST(ExpandVars, UpstreamRules) {
  auto vars = [](const std::string& n) -> std::optional<std::string> {
    if (n == "A") return std::string("alpha");
    if (n == "EMPTY") return std::string();
    return std::nullopt;
  };
  EXPECT_EQ(ExpandVars("$(A)", vars), "alpha");
  EXPECT_EQ(ExpandVars("x$(A)y$(A)", vars), "xalphayalpha");
  EXPECT_EQ(ExpandVars("$(MISSING)", vars), "$(MISSING)");
  EXPECT_EQ(ExpandVars("$$(A)", vars), "$(A)");  // escaped
  EXPECT_EQ(ExpandVars("$$$(A)", vars), "$alpha");
  EXPECT_EQ(ExpandVars("$$", vars), "$");
  EXPECT_EQ(ExpandVars("$", vars), "$");
  EXPECT_EQ(ExpandVars("a$", vars), "a$");
  EXPECT_EQ(ExpandVars("$A", vars), "$A");
  EXPECT_EQ(ExpandVars("$(A", vars), "$(A");   // unterminated: as written
  EXPECT_EQ(ExpandVars("$()", vars), "$()");
  EXPECT_EQ(ExpandVars("$(EMPTY)-", vars), "-");
  EXPECT_EQ(ExpandVars("(A)$(A)$", vars), "(A)alpha$");
  EXPECT_EQ(ExpandVars("", vars), "");
}

TEST_F(ContainerConfigTest, EnvInOrderWithReferencesAndValueFrom) {
  auto pod = Pod(R"~([{"name":"app","image":"busybox","env":[
      {"name":"B","value":"b"},
      {"name":"A","value":"$(B)-$(C)-$$(B)"},
      {"name":"C","value":"c"},
      {"name":"MODE","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"mode"}}},
      {"name":"PASS","valueFrom":{"secretKeyRef":{"name":"creds","key":"password"}}},
      {"name":"OPT","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"nope","optional":true}}},
      {"name":"OPT2","valueFrom":{"secretKeyRef":{"name":"ghost","key":"k","optional":true}}},
      {"name":"NAME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}},
      {"name":"NS","valueFrom":{"fieldRef":{"fieldPath":"metadata.namespace"}}},
      {"name":"UID","valueFrom":{"fieldRef":{"fieldPath":"metadata.uid"}}},
      {"name":"APP","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['app']"}}},
      {"name":"NOTE","valueFrom":{"fieldRef":{"fieldPath":"metadata.annotations['note']"}}},
      {"name":"NOLABEL","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['none']"}}},
      {"name":"NODE","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}},
      {"name":"SA","valueFrom":{"fieldRef":{"fieldPath":"spec.serviceAccountName"}}},
      {"name":"HOST_IP","valueFrom":{"fieldRef":{"fieldPath":"status.hostIP"}}},
      {"name":"POD_IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}},
      {"name":"POD_IPS","valueFrom":{"fieldRef":{"fieldPath":"status.podIPs"}}},
      {"name":"B","value":"b2"},
      {"name":"EMPTY"}]}])~");
  auto c = Build(pod);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  const Env& env = c->envs;
  ASSERT_GE(env.size(), 2u);
  EXPECT_EQ(env[0].first, "B");  // first position, last value
  EXPECT_EQ(env[0].second, "b2");
  EXPECT_EQ(env[1].first, "A");
  EXPECT_EQ(Get(env, "A"), "b-$(C)-$(B)");  // C is defined later: not expanded
  EXPECT_EQ(Get(env, "MODE"), "fast");
  EXPECT_EQ(Get(env, "PASS"), "s3cr3t");
  EXPECT_EQ(Get(env, "OPT"), "<unset>");
  EXPECT_EQ(Get(env, "OPT2"), "<unset>");
  EXPECT_EQ(Get(env, "NAME"), "web-1");
  EXPECT_EQ(Get(env, "NS"), "shop");
  EXPECT_EQ(Get(env, "UID"), "u-1");
  EXPECT_EQ(Get(env, "APP"), "web");
  EXPECT_EQ(Get(env, "NOTE"), "hi");
  EXPECT_EQ(Get(env, "NOLABEL"), "");
  EXPECT_EQ(Get(env, "NODE"), "n1");
  EXPECT_EQ(Get(env, "SA"), "robot");
  EXPECT_EQ(Get(env, "HOST_IP"), "192.168.1.5");
  EXPECT_EQ(Get(env, "POD_IP"), "10.42.0.7");
  EXPECT_EQ(Get(env, "POD_IPS"), "10.42.0.7,fd00::7");
  EXPECT_EQ(Get(env, "EMPTY"), "");

  // The sandbox's IPs win over a status not written yet.
  ContainerContext ctx;
  ctx.pod_ips = {"10.42.0.9"};
  ctx.host_ip = "192.168.1.6";
  auto d = Build(pod, ctx);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(Get(d->envs, "POD_IP"), "10.42.0.9");
  EXPECT_EQ(Get(d->envs, "HOST_IP"), "192.168.1.6");
}

TEST_F(ContainerConfigTest, EnvFromWithPrefixSkipsInvalidNames) {
  auto pod = Pod(R"~([{"name":"app","image":"busybox","envFrom":[
      {"configMapRef":{"name":"cfg"},"prefix":"CFG_"},
      {"secretRef":{"name":"creds"}},
      {"configMapRef":{"name":"ghost","optional":true}}],
      "env":[{"name":"X","value":"$(CFG_mode)/$(user)"}]}])~");
  auto c = Build(pod);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(Get(c->envs, "CFG_mode"), "fast");
  EXPECT_EQ(Get(c->envs, "CFG_LEVEL"), "3");
  EXPECT_EQ(Get(c->envs, "CFG_1st"), "y");  // the prefix makes it valid
  EXPECT_EQ(Get(c->envs, "CFG_bad key"), "<unset>");
  EXPECT_EQ(Get(c->envs, "user"), "admin");
  EXPECT_EQ(Get(c->envs, "X"), "fast/admin");
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].reason, "InvalidEnvironmentVariableNames");
  EXPECT_EQ(events_[0].message, "Keys [CFG_bad key] from the EnvFrom configMap shop/cfg were skipped since they are considered "
                                "invalid environment variable names.");
  // Without a prefix "1st" is not a valid name either.
  auto p2 = Pod(R"([{"name":"app","image":"busybox","envFrom":[{"configMapRef":{"name":"cfg"}}]}])");
  auto c2 = Build(p2);
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(Get(c2->envs, "1st"), "<unset>");
  EXPECT_EQ(Get(c2->envs, "mode"), "fast");
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_NE(events_[0].message.find("Keys [1st, bad key]"), std::string::npos);
}

TEST_F(ContainerConfigTest, MissingObjectsAreCreateContainerConfigErrors) {
  struct Case {
    std::string env, message;
  } cases[] = {
      {R"("env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"x","key":"k"}}}])", "configmap \"x\" not found"},
      {R"("env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"y"}}}])", "couldn't find key y in ConfigMap shop/cfg"},
      {R"("env":[{"name":"X","valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}}])", "secret \"s\" not found"},
      {R"("env":[{"name":"X","valueFrom":{"secretKeyRef":{"name":"creds","key":"k"}}}])", "couldn't find key k in Secret shop/creds"},
      {R"("envFrom":[{"configMapRef":{"name":"x"}}])", "configmap \"x\" not found"},
      {R"("envFrom":[{"secretRef":{"name":"x"}}])", "secret \"x\" not found"},
      {R"("env":[{"name":"X","valueFrom":{"fieldRef":{"fieldPath":"spec.bogus"}}}])", "unsupported fieldPath: spec.bogus"},
      {R"("env":[{"name":"X","valueFrom":{"resourceFieldRef":{"resource":"limits.gpu"}}}])", "unsupported container resource : limits.gpu"},
      {R"("env":[{"name":"X","valueFrom":{}}])", "env X: valueFrom has no supported source"},
  };
  for (const auto& tc : cases) {
    auto c = Build(Pod(R"([{"name":"app","image":"busybox",)" + tc.env + "}]"));
    ASSERT_FALSE(c.ok()) << tc.env;
    EXPECT_EQ(c.error().reason(), "CreateContainerConfigError") << tc.env;
    EXPECT_EQ(c.error().message(), tc.message) << tc.env;
  }
  // Any other error of the lookup passes through as it is (the kubelet retries).
  struct Down : MapLookup {
    Result<json::object> GetConfigMap(const std::string&, const std::string&) override {
      return Status(Code::kUnavailable, "server unreachable");
    }
  } down;
  auto pod = Pod(R"([{"name":"app","image":"busybox","env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"x","key":"k","optional":true}}}]}])");
  auto c = BuildContainerConfig(pod, pod.at("spec").at("containers").as_array()[0].as_object(), {}, node_, down);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), Code::kUnavailable);
}

TEST_F(ContainerConfigTest, ResourceFieldRefs) {
  auto pod = Pod(R"([{"name":"app","image":"busybox","resources":{"limits":{"cpu":"1500m","memory":"1Gi"},"requests":{"cpu":"250m"}},
      "env":[
      {"name":"LC","valueFrom":{"resourceFieldRef":{"resource":"limits.cpu"}}},
      {"name":"LCM","valueFrom":{"resourceFieldRef":{"resource":"limits.cpu","divisor":"1m"}}},
      {"name":"RC","valueFrom":{"resourceFieldRef":{"resource":"requests.cpu","divisor":"100m"}}},
      {"name":"LM","valueFrom":{"resourceFieldRef":{"resource":"limits.memory","divisor":"1Mi"}}},
      {"name":"RM","valueFrom":{"resourceFieldRef":{"resource":"requests.memory"}}},
      {"name":"SIDE_LC","valueFrom":{"resourceFieldRef":{"containerName":"side","resource":"limits.cpu"}}},
      {"name":"SIDE_LM","valueFrom":{"resourceFieldRef":{"containerName":"side","resource":"limits.memory","divisor":"1Gi"}}},
      {"name":"SIDE_RM","valueFrom":{"resourceFieldRef":{"containerName":"side","resource":"requests.memory"}}}]},
      {"name":"side","image":"busybox"}])");
  auto c = Build(pod);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(Get(c->envs, "LC"), "2");  // 1.5 cores rounded up
  EXPECT_EQ(Get(c->envs, "LCM"), "1500");
  EXPECT_EQ(Get(c->envs, "RC"), "3");  // 250m / 100m rounded up
  EXPECT_EQ(Get(c->envs, "LM"), "1024");
  EXPECT_EQ(Get(c->envs, "RM"), "1073741824");  // the request defaults to the limit
  EXPECT_EQ(Get(c->envs, "SIDE_LC"), "2");       // no limit: node allocatable
  EXPECT_EQ(Get(c->envs, "SIDE_LM"), "4");
  EXPECT_EQ(Get(c->envs, "SIDE_RM"), "0");
  auto bad = Build(Pod(R"([{"name":"app","image":"i","env":[{"name":"X","valueFrom":{"resourceFieldRef":{"resource":"limits.cpu","divisor":"0"}}}]}])"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason(), "CreateContainerConfigError");
  auto nobody = Build(Pod(R"([{"name":"app","image":"i","env":[{"name":"X","valueFrom":{"resourceFieldRef":{"containerName":"zz","resource":"limits.cpu"}}}]}])"));
  ASSERT_FALSE(nobody.ok());
}

TEST_F(ContainerConfigTest, ServiceLinks) {
  lookup_.services["default"] = {Parse(R"({"metadata":{"name":"kubernetes","namespace":"default"},
      "spec":{"clusterIP":"10.43.0.1","ports":[{"name":"https","port":443,"protocol":"TCP"}]}})"),
                                 Parse(R"({"metadata":{"name":"other","namespace":"default"},"spec":{"clusterIP":"10.43.0.2","ports":[{"port":1}]}})")};
  lookup_.services["shop"] = {Parse(R"({"metadata":{"name":"my-db","namespace":"shop"},
      "spec":{"clusterIP":"10.43.5.5","ports":[{"name":"sql","port":5432,"protocol":"TCP"},{"port":9000,"protocol":"UDP"}]}})"),
                              Parse(R"({"metadata":{"name":"headless","namespace":"shop"},"spec":{"clusterIP":"None","ports":[{"port":1}]}})")};
  auto c = Build(Pod(R"~([{"name":"app","image":"i","env":[{"name":"U","value":"$(KUBERNETES_SERVICE_HOST):$(MY_DB_SERVICE_PORT)"},
      {"name":"MY_DB_SERVICE_HOST","value":"mine"}]}])~"));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(Get(c->envs, "KUBERNETES_SERVICE_HOST"), "10.43.0.1");
  EXPECT_EQ(Get(c->envs, "KUBERNETES_SERVICE_PORT"), "443");
  EXPECT_EQ(Get(c->envs, "KUBERNETES_SERVICE_PORT_HTTPS"), "443");
  EXPECT_EQ(Get(c->envs, "KUBERNETES_PORT"), "tcp://10.43.0.1:443");
  EXPECT_EQ(Get(c->envs, "KUBERNETES_PORT_443_TCP"), "tcp://10.43.0.1:443");
  EXPECT_EQ(Get(c->envs, "KUBERNETES_PORT_443_TCP_PROTO"), "tcp");
  EXPECT_EQ(Get(c->envs, "KUBERNETES_PORT_443_TCP_PORT"), "443");
  EXPECT_EQ(Get(c->envs, "KUBERNETES_PORT_443_TCP_ADDR"), "10.43.0.1");
  EXPECT_EQ(Get(c->envs, "MY_DB_SERVICE_HOST"), "mine");  // the spec wins
  EXPECT_EQ(Get(c->envs, "MY_DB_PORT_9000_UDP"), "udp://10.43.5.5:9000");
  EXPECT_EQ(Get(c->envs, "U"), "10.43.0.1:5432");
  EXPECT_EQ(Get(c->envs, "OTHER_SERVICE_HOST"), "<unset>");    // another namespace's
  EXPECT_EQ(Get(c->envs, "HEADLESS_SERVICE_HOST"), "<unset>");
  EXPECT_EQ(c->envs[0].first, "U");  // the spec's variables first

  auto no_links = Build(Pod(R"([{"name":"app","image":"i"}])", R"(,"enableServiceLinks":false)"));
  ASSERT_TRUE(no_links.ok());
  EXPECT_EQ(Get(no_links->envs, "KUBERNETES_SERVICE_HOST"), "10.43.0.1");  // always
  EXPECT_EQ(Get(no_links->envs, "MY_DB_SERVICE_HOST"), "<unset>");
}

TEST_F(ContainerConfigTest, CommandArgsExpandedAgainstTheFinalEnv) {
  auto c = Build(Pod(R"~([{"name":"app","image":"busybox","command":["sh","-c","echo $(MSG) $$(MSG) $(NOPE)"],
      "args":["$(MSG)","$$HOME"],"workingDir":"/work","env":[{"name":"MSG","value":"hello"}],"stdin":true,"tty":true}])~"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->command, (std::vector<std::string>{"sh", "-c", "echo hello $(MSG) $(NOPE)"}));
  EXPECT_EQ(c->args, (std::vector<std::string>{"hello", "$HOME"}));
  EXPECT_EQ(c->working_dir, "/work");
  EXPECT_EQ(c->image.image, "busybox");
  EXPECT_TRUE(c->stdin);
  EXPECT_TRUE(c->tty);
}

TEST_F(ContainerConfigTest, PrecomputedEnvIsUsedAsItIs) {
  ContainerContext ctx;
  ctx.env = Env{{"A", "1"}};
  auto c = Build(Pod(R"~([{"name":"app","image":"i","args":["$(A)"],"env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"ghost","key":"k"}}}]}])~"), ctx);
  ASSERT_TRUE(c.ok()) << c.error().ToString();  // the missing configMap is not looked up again
  EXPECT_EQ(c->envs, (Env{{"A", "1"}}));
  EXPECT_EQ(c->args, (std::vector<std::string>{"1"}));
}

TEST(Resources, Formulas) {
  EXPECT_EQ(MilliCPUToShares(0), 2);
  EXPECT_EQ(MilliCPUToShares(1), 2);
  EXPECT_EQ(MilliCPUToShares(100), 102);
  EXPECT_EQ(MilliCPUToShares(1000), 1024);
  EXPECT_EQ(MilliCPUToShares(1 << 30), 262144);
  EXPECT_EQ(MilliCPUToQuota(0, 100000), 0);
  EXPECT_EQ(MilliCPUToQuota(5, 100000), 1000);  // at least 1 ms
  EXPECT_EQ(MilliCPUToQuota(250, 100000), 25000);
  EXPECT_EQ(MilliCPUToQuota(2000, 100000), 200000);
}

TEST_F(ContainerConfigTest, ResourcesToCgroupLimits) {
  auto c = Build(Pod(R"([{"name":"app","image":"i","resources":{"requests":{"cpu":"250m","memory":"256Mi"},
      "limits":{"cpu":"500m","memory":"512Mi"}}}])"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->resources.cpu_shares, 256);
  EXPECT_EQ(c->resources.cpu_period, 100000);
  EXPECT_EQ(c->resources.cpu_quota, 50000);
  EXPECT_EQ(c->resources.memory_limit_in_bytes, 512LL << 20);
  EXPECT_EQ(c->resources.oom_score_adj, 1000 - 1000 * (256LL << 20) / (8LL << 30));  // Burstable

  auto only_limit = Build(Pod(R"([{"name":"app","image":"i","resources":{"limits":{"cpu":"2","memory":"1Gi"}}}])"));
  ASSERT_TRUE(only_limit.ok());
  EXPECT_EQ(only_limit->resources.cpu_shares, 2048);  // the request defaults to the limit
  EXPECT_EQ(only_limit->resources.cpu_quota, 200000);
  EXPECT_EQ(only_limit->resources.oom_score_adj, -997);  // Guaranteed

  auto none = Build(Pod(R"([{"name":"app","image":"i"}])"));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->resources.cpu_shares, 2);
  EXPECT_EQ(none->resources.cpu_quota, 0);
  EXPECT_EQ(none->resources.memory_limit_in_bytes, 0);
  EXPECT_EQ(none->resources.oom_score_adj, 1000);  // BestEffort

  auto bad = Build(Pod(R"([{"name":"app","image":"i","resources":{"limits":{"memory":"lots"}}}])"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason(), "CreateContainerConfigError");
  EXPECT_FALSE(Build(Pod(R"([{"name":"app","image":"i","resources":{"requests":{"cpu":"-1"}}}])")).ok());
}

TEST_F(ContainerConfigTest, SecurityContextMergedFromPodAndContainer) {
  auto c = Build(Pod(R"([{"name":"app","image":"i","securityContext":{"runAsUser":1001,"privileged":false,
      "readOnlyRootFilesystem":true,"allowPrivilegeEscalation":false,"capabilities":{"add":["NET_ADMIN"],"drop":["ALL"]}}}])",
                     R"(,"securityContext":{"runAsUser":1000,"runAsGroup":3000,"runAsNonRoot":true,"supplementalGroups":[4000],"fsGroup":2000})"));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  const auto& sc = c->security_context;
  EXPECT_EQ(sc.run_as_user, 1001);  // the container's wins
  EXPECT_EQ(sc.run_as_group, 3000);  // the pod's
  EXPECT_TRUE(sc.readonly_rootfs);
  EXPECT_TRUE(sc.no_new_privs);
  EXPECT_FALSE(sc.privileged);
  EXPECT_EQ(sc.add_capabilities, (std::vector<std::string>{"NET_ADMIN"}));
  EXPECT_EQ(sc.drop_capabilities, (std::vector<std::string>{"ALL"}));
  EXPECT_EQ(sc.supplemental_groups, (std::vector<int64_t>{2000, 4000}));  // fsGroup first, as upstream
  // procMount Default: upstream's masked and read-only paths (containerd adds none to a container).
  EXPECT_EQ(sc.masked_paths.size(), 11u);
  EXPECT_NE(std::find(sc.masked_paths.begin(), sc.masked_paths.end(), "/proc/kcore"), sc.masked_paths.end());
  EXPECT_EQ(sc.readonly_paths,
            (std::vector<std::string>{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}));

  auto plain = Build(Pod(R"([{"name":"app","image":"i","securityContext":{"privileged":true}}])"));
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->security_context.privileged);
  EXPECT_FALSE(plain->security_context.no_new_privs);  // only an explicit false sets it
  EXPECT_FALSE(plain->security_context.run_as_user.has_value());
  EXPECT_EQ(plain->security_context.readonly_paths.size(), 5u);  // the runtime drops them for privileged

  auto unmasked = Build(Pod(R"([{"name":"app","image":"i","securityContext":{"procMount":"Unmasked"}}])"));
  ASSERT_TRUE(unmasked.ok());
  EXPECT_TRUE(unmasked->security_context.masked_paths.empty());
  EXPECT_TRUE(unmasked->security_context.readonly_paths.empty());
}

TEST_F(ContainerConfigTest, SeccompProfileFromContainerElsePod) {
  node_.seccomp_root = "/data/agent/kubelet/seccomp";
  using Type = cri::SecurityProfile::Type;
  auto none = Build(Pod(R"([{"name":"app","image":"i"}])"));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->security_context.seccomp.type, Type::kUnconfined);  // upstream without --seccomp-default
  node_.seccomp_default = true;
  auto defaulted = Build(Pod(R"([{"name":"app","image":"i"}])"));
  ASSERT_TRUE(defaulted.ok());
  EXPECT_EQ(defaulted->security_context.seccomp.type, Type::kRuntimeDefault);
  node_.seccomp_default = false;

  const std::string pod_default = R"(,"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}})";
  auto inherited = Build(Pod(R"([{"name":"app","image":"i"}])", pod_default));
  ASSERT_TRUE(inherited.ok());
  EXPECT_EQ(inherited->security_context.seccomp.type, Type::kRuntimeDefault);

  auto local = Build(Pod(R"([{"name":"app","image":"i","securityContext":{"seccompProfile":{"type":"Localhost",
      "localhostProfile":"operator/audit.json"}}}])", pod_default));
  ASSERT_TRUE(local.ok()) << local.error().ToString();
  EXPECT_EQ(local->security_context.seccomp.type, Type::kLocalhost);
  EXPECT_EQ(local->security_context.seccomp.localhost_ref, "/data/agent/kubelet/seccomp/operator/audit.json");

  auto unconfined = Build(Pod(R"([{"name":"app","image":"i","securityContext":{"seccompProfile":{"type":"Unconfined"}}}])", pod_default));
  ASSERT_TRUE(unconfined.ok());
  EXPECT_EQ(unconfined->security_context.seccomp.type, Type::kUnconfined);

  for (const char* bad : {R"({"type":"Localhost","localhostProfile":"../etc/shadow"})", R"({"type":"Localhost","localhostProfile":"a/../../x"})",
                          R"({"type":"Localhost","localhostProfile":"/abs.json"})", R"({"type":"Localhost"})", R"({"type":"Strict"})"}) {
    auto r = Build(Pod(std::string(R"([{"name":"app","image":"i","securityContext":{"seccompProfile":)") + bad + "}}]"));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().reason(), "CreateContainerConfigError") << bad;
  }
  // "..." and "a..b" are names, not the parent directory.
  auto dots = Build(Pod(R"([{"name":"app","image":"i","securityContext":{"seccompProfile":{"type":"Localhost","localhostProfile":"a..b/..."}}}])"));
  ASSERT_TRUE(dots.ok());
  EXPECT_EQ(dots->security_context.seccomp.localhost_ref, "/data/agent/kubelet/seccomp/a..b/...");
}

TEST_F(ContainerConfigTest, RunAsNonRoot) {
  auto pod = Pod(R"([{"name":"app","image":"i","securityContext":{"runAsUser":0}}])", R"(,"securityContext":{"runAsNonRoot":true})");
  auto root = Build(pod);
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.error().reason(), "CreateContainerConfigError");
  EXPECT_EQ(root.error().message(), "container's runAsUser breaks non-root policy (pod: \"web-1_shop(u-1)\", container: app)");

  auto by_image = Pod(R"([{"name":"app","image":"i","securityContext":{"runAsNonRoot":true}}])");
  ContainerContext ctx;
  ctx.image_uid = 0;
  auto r = Build(by_image, ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "container has runAsNonRoot and image will run as root (pod: \"web-1_shop(u-1)\", container: app)");
  ctx.image_uid.reset();
  ctx.image_user = "nginx";
  auto named = Build(by_image, ctx);
  ASSERT_FALSE(named.ok());
  EXPECT_NE(named.error().message().find("image has non-numeric user (nginx), cannot verify user is non-root"), std::string::npos);
  ctx.image_uid = 101;
  auto ok = Build(by_image, ctx);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->security_context.run_as_user, 101);
  // Without runAsNonRoot a named image user goes to the runtime as a name.
  ContainerContext named_ctx;
  named_ctx.image_user = "nginx";
  auto passed = Build(Pod(R"([{"name":"app","image":"i"}])"), named_ctx);
  ASSERT_TRUE(passed.ok());
  EXPECT_EQ(passed->security_context.run_as_username, "nginx");
  // Nonsense ids are refused.
  EXPECT_FALSE(Build(Pod(R"([{"name":"app","image":"i","securityContext":{"runAsUser":"root"}}])")).ok());
  EXPECT_FALSE(Build(Pod(R"([{"name":"app","image":"i","securityContext":{"runAsUser":-1}}])")).ok());
  EXPECT_FALSE(Build(Pod(R"([{"name":"app","image":"i","securityContext":{"privileged":true,"allowPrivilegeEscalation":false}}])")).ok());
}

TEST_F(ContainerConfigTest, LabelsAnnotationsLogPathAndMounts) {
  ContainerContext ctx;
  ctx.attempt = 3;
  ctx.mounts = {cri::Mount{.container_path = "/data", .host_path = "/var/lib/x"}};
  ctx.termination_log_path = "/root/pods/u-1/containers/app/3";
  auto pod = Pod(R"([{"name":"app","image":"i","ports":[{"containerPort":80}],"terminationMessagePath":"/tmp/msg"}])",
                 R"(,"terminationGracePeriodSeconds":45)");
  auto c = Build(pod, ctx);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->metadata.name, "app");
  EXPECT_EQ(c->metadata.attempt, 3u);
  EXPECT_EQ(c->log_path, "app/3.log");
  EXPECT_EQ(c->labels.at("io.kubernetes.container.name"), "app");
  EXPECT_EQ(c->labels.at("io.kubernetes.pod.name"), "web-1");
  EXPECT_EQ(c->labels.at("io.kubernetes.pod.namespace"), "shop");
  EXPECT_EQ(c->labels.at("io.kubernetes.pod.uid"), "u-1");
  EXPECT_FALSE(c->labels.contains("app"));  // the pod's labels stay on the sandbox
  EXPECT_EQ(c->annotations.at("io.kubernetes.container.restartCount"), "3");
  EXPECT_EQ(c->annotations.at("io.kubernetes.container.terminationMessagePath"), "/tmp/msg");
  EXPECT_EQ(c->annotations.at("io.kubernetes.pod.terminationGracePeriod"), "45");
  EXPECT_FALSE(c->annotations.at("io.kubernetes.container.hash").empty());
  ASSERT_EQ(c->mounts.size(), 2u);
  EXPECT_EQ(c->mounts[1].container_path, "/tmp/msg");
  EXPECT_EQ(c->mounts[1].host_path, "/root/pods/u-1/containers/app/3");
  // The hash follows the spec.
  auto other = Build(Pod(R"([{"name":"app","image":"j"}])"), ctx);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->annotations.at("io.kubernetes.container.hash"), c->annotations.at("io.kubernetes.container.hash"));

  EXPECT_FALSE(Build(Pod(R"([{"image":"i"}])")).ok());
  EXPECT_FALSE(Build(Pod(R"([{"name":"app"}])")).ok());
  EXPECT_FALSE(Build(Pod(R"([{"name":"app","image":"i","env":[{"value":"x"}]}])")).ok());
}

// Objects of the wrong shape anywhere: a Status or a config, never a crash.
TEST_F(ContainerConfigTest, MalformedInputNeverCrashes) {
  const char* pods[] = {
      R"({})",
      R"({"metadata":5,"spec":"x"})",
      R"({"metadata":{"name":"p","namespace":"n","uid":"u"},"spec":{"containers":5,"dnsPolicy":7,"dnsConfig":"x","hostNetwork":"yes"}})",
      R"({"metadata":{"name":"p","namespace":"n","uid":"u","labels":[1]},"spec":{"containers":[5,"x",{"name":1},
          {"name":"c","image":"i","env":{"a":1},"envFrom":[1,{"configMapRef":"x"},{"secretRef":{"name":5}}],
           "ports":[1,{"hostPort":"x"},{"hostPort":-1,"containerPort":99999999999}],"command":[1,null,"x"],
           "resources":{"limits":[],"requests":{"cpu":{},"memory":1e300}},"securityContext":{"runAsUser":1e300,"capabilities":{"add":"x"}}}],
          "securityContext":{"runAsNonRoot":"yes","supplementalGroups":"x","fsGroup":"g"},
          "dnsConfig":{"nameservers":[1,2],"options":[1,{"name":5},{"name":"x","value":5}]}}})",
      R"({"metadata":{"name":"p","namespace":"n","uid":"u"},"spec":{"containers":[{"name":"c","image":"i","env":[
          {"name":"A","valueFrom":{"fieldRef":5}},{"name":"B","valueFrom":{"resourceFieldRef":{"resource":5,"divisor":[]}}},
          {"name":"C","valueFrom":{"configMapKeyRef":{"name":[],"key":{}}}},{"name":"D","value":"$(","valueFrom":1}]}]}})",
  };
  for (const char* text : pods) {
    auto pod = Parse(text);
    (void)BuildSandboxConfig(pod, node_);
    for (const auto& c : api::GetArray(pod, {"spec", "containers"})) {
      if (c.is_object()) (void)BuildContainerConfig(pod, c.as_object(), {}, node_, lookup_);
    }
  }
  SUCCEED();
}

}  // namespace
}  // namespace kite::kubelet
