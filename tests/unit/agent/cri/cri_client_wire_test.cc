// runtime.h's structs to CRI messages and back, field by field (the real-containerd tests show the
// runtime acts on them; these show none is dropped on the way).
#include "agent/cri/cri_client_wire.h"

#include <gtest/gtest.h>

namespace kite::cri::wire {
namespace {
namespace v1 = runtime::v1;

PodSandboxConfig FullPod() {
  PodSandboxConfig p;
  p.metadata = {.name = "web-0", .uid = "u-1", .namespace_ = "shop", .attempt = 2};
  p.hostname = "web-0";
  p.log_directory = "/var/log/pods/shop_web-0_u-1";
  p.dns_config = DNSConfig{.servers = {"10.43.0.10"}, .searches = {"shop.svc.cluster.local", "svc.cluster.local"},
                           .options = {"ndots:5"}};
  p.port_mappings = {{.protocol = Protocol::kUDP, .container_port = 53, .host_port = 5353, .host_ip = "127.0.0.1"},
                     {.protocol = Protocol::kSCTP, .container_port = 9, .host_port = 9, .host_ip = ""}};
  p.cgroup_parent = "/kubepods/burstable/podu-1";
  p.privileged = true;
  p.share_pid = true;
  p.run_as_user = 1000;
  p.run_as_group = 0;  // set to 0 is root, not unset
  p.supplemental_groups = {2000, 4000};
  p.sysctls = {{"net.ipv4.ip_unprivileged_port_start", "0"}};
  p.labels = {{"app", "web"}};
  p.annotations = {{"note", "x"}};
  return p;
}

TEST(CriWire, PodSandboxConfig) {
  v1::PodSandboxConfig out;
  ToProto(FullPod(), &out);
  EXPECT_EQ(out.metadata().name(), "web-0");
  EXPECT_EQ(out.metadata().uid(), "u-1");
  EXPECT_EQ(out.metadata().namespace_(), "shop");
  EXPECT_EQ(out.metadata().attempt(), 2u);
  EXPECT_EQ(out.hostname(), "web-0");
  EXPECT_EQ(out.log_directory(), "/var/log/pods/shop_web-0_u-1");
  ASSERT_TRUE(out.has_dns_config());
  EXPECT_EQ(out.dns_config().servers(0), "10.43.0.10");
  EXPECT_EQ(out.dns_config().searches_size(), 2);
  EXPECT_EQ(out.dns_config().options(0), "ndots:5");
  ASSERT_EQ(out.port_mappings_size(), 2);
  EXPECT_EQ(out.port_mappings(0).protocol(), v1::UDP);
  EXPECT_EQ(out.port_mappings(0).container_port(), 53);
  EXPECT_EQ(out.port_mappings(0).host_port(), 5353);
  EXPECT_EQ(out.port_mappings(0).host_ip(), "127.0.0.1");
  EXPECT_EQ(out.port_mappings(1).protocol(), v1::SCTP);
  EXPECT_EQ(out.labels().at("app"), "web");
  EXPECT_EQ(out.annotations().at("note"), "x");
  EXPECT_EQ(out.linux().cgroup_parent(), "/kubepods/burstable/podu-1");
  EXPECT_TRUE(out.linux().security_context().privileged());
  EXPECT_EQ(out.linux().security_context().run_as_user().value(), 1000);
  EXPECT_TRUE(out.linux().security_context().has_run_as_group());
  EXPECT_EQ(out.linux().security_context().run_as_group().value(), 0);
  ASSERT_EQ(out.linux().security_context().supplemental_groups_size(), 2);
  EXPECT_EQ(out.linux().security_context().supplemental_groups(0), 2000);
  // A sandbox with no profile says Unconfined, not nothing: proto3's 0 is RuntimeDefault.
  EXPECT_EQ(out.linux().security_context().seccomp().profile_type(), v1::SecurityProfile::Unconfined);
  const auto& ns = out.linux().security_context().namespace_options();
  EXPECT_EQ(ns.network(), v1::POD);
  EXPECT_EQ(ns.pid(), v1::POD);  // shareProcessNamespace
  EXPECT_EQ(ns.ipc(), v1::POD);
  EXPECT_EQ(out.linux().sysctls().at("net.ipv4.ip_unprivileged_port_start"), "0");
}

TEST(CriWire, HostNamespacesAndNoDnsConfig) {
  auto p = FullPod();
  p.host_network = p.host_pid = p.host_ipc = true;
  p.dns_config.reset();
  v1::PodSandboxConfig out;
  ToProto(p, &out);
  const auto& ns = out.linux().security_context().namespace_options();
  EXPECT_EQ(ns.network(), v1::NODE);
  EXPECT_EQ(ns.pid(), v1::NODE);
  EXPECT_EQ(ns.ipc(), v1::NODE);
  EXPECT_FALSE(out.has_dns_config());
  EXPECT_EQ(out.hostname(), "");  // the host's UTS namespace: a runtime refuses to set it
}

TEST(CriWire, ContainerConfig) {
  ContainerConfig c;
  c.metadata = {.name = "app", .attempt = 3};
  c.image.image = "kite.local/busybox:1.35";
  c.command = {"sh"};
  c.args = {"-c", "true"};
  c.working_dir = "/w";
  c.envs = {{"A", "1"}, {"B", "two words"}};
  c.mounts = {{.container_path = "/data", .host_path = "/h", .readonly = true, .selinux_relabel = true}};
  c.stdin = c.stdin_once = c.tty = true;
  c.resources = {.cpu_period = 100000, .cpu_quota = 20000, .cpu_shares = 204, .memory_limit_in_bytes = 1 << 20,
                 .oom_score_adj = 999};
  c.security_context.privileged = true;
  c.security_context.run_as_user = 1000;
  c.security_context.run_as_group = 2000;
  c.security_context.run_as_username = "app";
  c.security_context.readonly_rootfs = true;
  c.security_context.no_new_privs = true;
  c.security_context.add_capabilities = {"NET_ADMIN"};
  c.security_context.drop_capabilities = {"ALL"};
  c.security_context.supplemental_groups = {5, 6};
  c.security_context.masked_paths = {"/proc/kcore"};
  c.security_context.readonly_paths = {"/proc/sys", "/proc/sysrq-trigger"};
  c.security_context.seccomp = {.type = SecurityProfile::Type::kLocalhost, .localhost_ref = "/s/p.json"};
  c.labels = {{"io.kubernetes.container.name", "app"}};
  c.annotations = {{"io.kubernetes.container.restartCount", "3"}};
  c.log_path = "app/3.log";
  auto pod = FullPod();
  pod.host_network = true;
  v1::ContainerConfig out;
  ToProto(c, pod, &out);
  EXPECT_EQ(out.metadata().name(), "app");
  EXPECT_EQ(out.metadata().attempt(), 3u);
  EXPECT_EQ(out.image().image(), "kite.local/busybox:1.35");
  EXPECT_EQ(out.command_size(), 1);
  EXPECT_EQ(out.args(1), "true");
  EXPECT_EQ(out.working_dir(), "/w");
  ASSERT_EQ(out.envs_size(), 2);
  EXPECT_EQ(out.envs(1).key(), "B");
  EXPECT_EQ(out.envs(1).value(), "two words");
  ASSERT_EQ(out.mounts_size(), 1);
  EXPECT_EQ(out.mounts(0).container_path(), "/data");
  EXPECT_EQ(out.mounts(0).host_path(), "/h");
  EXPECT_TRUE(out.mounts(0).readonly());
  EXPECT_TRUE(out.mounts(0).selinux_relabel());
  EXPECT_TRUE(out.stdin() && out.stdin_once() && out.tty());
  const auto& r = out.linux().resources();
  EXPECT_EQ(r.cpu_period(), 100000);
  EXPECT_EQ(r.cpu_quota(), 20000);
  EXPECT_EQ(r.cpu_shares(), 204);
  EXPECT_EQ(r.memory_limit_in_bytes(), 1 << 20);
  EXPECT_EQ(r.oom_score_adj(), 999);
  const auto& sc = out.linux().security_context();
  EXPECT_TRUE(sc.privileged());
  EXPECT_EQ(sc.run_as_user().value(), 1000);
  EXPECT_EQ(sc.run_as_group().value(), 2000);
  EXPECT_EQ(sc.run_as_username(), "app");
  EXPECT_TRUE(sc.readonly_rootfs());
  EXPECT_TRUE(sc.no_new_privs());
  EXPECT_EQ(sc.capabilities().add_capabilities(0), "NET_ADMIN");
  EXPECT_EQ(sc.capabilities().drop_capabilities(0), "ALL");
  EXPECT_EQ(sc.supplemental_groups_size(), 2);
  ASSERT_EQ(sc.masked_paths_size(), 1);
  EXPECT_EQ(sc.masked_paths(0), "/proc/kcore");
  ASSERT_EQ(sc.readonly_paths_size(), 2);
  EXPECT_EQ(sc.readonly_paths(1), "/proc/sysrq-trigger");
  EXPECT_EQ(sc.seccomp().profile_type(), v1::SecurityProfile::Localhost);
  EXPECT_EQ(sc.seccomp().localhost_ref(), "/s/p.json");
  EXPECT_EQ(sc.namespace_options().network(), v1::NODE);  // from the pod
  EXPECT_EQ(out.labels().at("io.kubernetes.container.name"), "app");
  EXPECT_EQ(out.annotations().at("io.kubernetes.container.restartCount"), "3");
  EXPECT_EQ(out.log_path(), "app/3.log");

  // Unset user and group stay unset (the image's user), not uid 0.
  v1::ContainerConfig plain;
  ToProto(ContainerConfig{}, PodSandboxConfig{}, &plain);
  EXPECT_FALSE(plain.linux().security_context().has_run_as_user());
  EXPECT_FALSE(plain.linux().security_context().has_run_as_group());
}

// An ephemeral container's target: its PID namespace (TARGET) where the pod's containers have one
// each; with shareProcessNamespace or hostPID the pod's mode stands (upstream ignores the target).
TEST(CriWire, EphemeralContainerJoinsItsTargetsPidNamespace) {
  ContainerConfig c;
  c.security_context.pid_target = "abc123";
  v1::ContainerConfig out;
  ToProto(c, PodSandboxConfig{}, &out);
  EXPECT_EQ(out.linux().security_context().namespace_options().pid(), v1::TARGET);
  EXPECT_EQ(out.linux().security_context().namespace_options().target_id(), "abc123");
  PodSandboxConfig shared;
  shared.share_pid = true;
  v1::ContainerConfig in_pod;
  ToProto(c, shared, &in_pod);
  EXPECT_EQ(in_pod.linux().security_context().namespace_options().pid(), v1::POD);
  EXPECT_EQ(in_pod.linux().security_context().namespace_options().target_id(), "");
  v1::ContainerConfig none;
  ToProto(ContainerConfig{}, PodSandboxConfig{}, &none);
  EXPECT_EQ(none.linux().security_context().namespace_options().pid(), v1::CONTAINER);
}

TEST(CriWire, Filters) {
  v1::PodSandboxFilter pf;
  ToProto(PodSandboxFilter{.id = "s", .state = PodSandboxState::kNotReady, .label_selector = {{"a", "b"}}}, &pf);
  EXPECT_EQ(pf.id(), "s");
  ASSERT_TRUE(pf.has_state());
  EXPECT_EQ(pf.state().state(), v1::SANDBOX_NOTREADY);
  EXPECT_EQ(pf.label_selector().at("a"), "b");
  v1::PodSandboxFilter any;
  ToProto(PodSandboxFilter{}, &any);
  EXPECT_FALSE(any.has_state());  // no state: every state, not READY (enum value 0)

  v1::ContainerFilter cf;
  ToProto(ContainerFilter{.id = "c", .pod_sandbox_id = "s", .state = ContainerState::kExited, .label_selector = {}}, &cf);
  EXPECT_EQ(cf.id(), "c");
  EXPECT_EQ(cf.pod_sandbox_id(), "s");
  EXPECT_EQ(cf.state().state(), v1::CONTAINER_EXITED);
  v1::ContainerFilter all;
  ToProto(ContainerFilter{}, &all);
  EXPECT_FALSE(all.has_state());
}

TEST(CriWire, AuthConfig) {
  v1::AuthConfig out;
  ToProto(AuthConfig{.username = "u", .password = "p", .auth = "dTpw", .server_address = "r.example",
                     .identity_token = "i", .registry_token = "t"},
          &out);
  EXPECT_EQ(out.username(), "u");
  EXPECT_EQ(out.password(), "p");
  EXPECT_EQ(out.auth(), "dTpw");
  EXPECT_EQ(out.server_address(), "r.example");
  EXPECT_EQ(out.identity_token(), "i");
  EXPECT_EQ(out.registry_token(), "t");
}

TEST(CriWire, Answers) {
  v1::ContainerStatus cs;
  cs.set_id("c1");
  cs.mutable_metadata()->set_name("app");
  cs.mutable_metadata()->set_attempt(4);
  cs.set_state(v1::CONTAINER_EXITED);
  cs.set_created_at(1);
  cs.set_started_at(2);
  cs.set_finished_at(3);
  cs.set_exit_code(137);
  cs.mutable_image()->set_image("sha256:abc");
  cs.set_image_ref("docker.io/library/x@sha256:def");
  cs.set_reason("OOMKilled");
  cs.set_message("m");
  (*cs.mutable_labels())["l"] = "1";
  (*cs.mutable_annotations())["a"] = "2";
  cs.set_log_path("/var/log/pods/x/app/4.log");
  ContainerStatus s = FromProto(cs);
  EXPECT_EQ(s.id, "c1");
  EXPECT_EQ(s.metadata.name, "app");
  EXPECT_EQ(s.metadata.attempt, 4u);
  EXPECT_EQ(s.state, ContainerState::kExited);
  EXPECT_EQ(s.created_at, 1);
  EXPECT_EQ(s.started_at, 2);
  EXPECT_EQ(s.finished_at, 3);
  EXPECT_EQ(s.exit_code, 137);
  EXPECT_EQ(s.image.image, "sha256:abc");
  EXPECT_EQ(s.image_ref, "docker.io/library/x@sha256:def");
  EXPECT_EQ(s.reason, "OOMKilled");
  EXPECT_EQ(s.message, "m");
  EXPECT_EQ(s.labels.at("l"), "1");
  EXPECT_EQ(s.annotations.at("a"), "2");
  EXPECT_EQ(s.log_path, "/var/log/pods/x/app/4.log");

  v1::Container c;
  c.set_id("c1");
  c.set_pod_sandbox_id("s1");
  c.set_state(v1::CONTAINER_CREATED);
  c.set_image_ref("ref");
  c.set_created_at(9);
  Container lc = FromProto(c);
  EXPECT_EQ(lc.pod_sandbox_id, "s1");
  EXPECT_EQ(lc.state, ContainerState::kCreated);
  EXPECT_EQ(lc.image_ref, "ref");
  EXPECT_EQ(lc.created_at, 9);

  v1::PodSandboxStatus ps;
  ps.set_id("s1");
  ps.mutable_metadata()->set_namespace_("shop");
  ps.set_state(v1::SANDBOX_READY);
  ps.set_created_at(7);
  ps.mutable_network()->set_ip("10.42.0.5");
  PodSandboxStatus pst = FromProto(ps);
  EXPECT_EQ(pst.metadata.namespace_, "shop");
  EXPECT_EQ(pst.state, PodSandboxState::kReady);
  EXPECT_EQ(pst.ip, "10.42.0.5");
  EXPECT_EQ(pst.created_at, 7);

  v1::PodSandbox pb;
  pb.set_id("s2");
  pb.set_state(v1::SANDBOX_NOTREADY);
  EXPECT_EQ(FromProto(pb).state, PodSandboxState::kNotReady);

  v1::Image img;
  img.set_id("sha256:1");
  img.add_repo_tags("a:1");
  img.add_repo_digests("a@sha256:2");
  img.set_size(42);
  Image i = FromProto(img);
  EXPECT_EQ(i.id, "sha256:1");
  EXPECT_EQ(i.repo_tags, std::vector<std::string>{"a:1"});
  EXPECT_EQ(i.repo_digests, std::vector<std::string>{"a@sha256:2"});
  EXPECT_EQ(i.size, 42u);

  v1::VersionResponse vr;
  vr.set_version("0.1.0");
  vr.set_runtime_name("containerd");
  vr.set_runtime_version("1.6.20");
  vr.set_runtime_api_version("v1");
  VersionInfo v = FromProto(vr);
  EXPECT_EQ(v.runtime_name, "containerd");
  EXPECT_EQ(v.runtime_version, "1.6.20");
  EXPECT_EQ(v.runtime_api_version, "v1");
  EXPECT_EQ(v.version, "0.1.0");

  v1::RuntimeCondition rc;
  rc.set_type("NetworkReady");
  rc.set_status(false);
  rc.set_reason("NetworkPluginNotReady");
  rc.set_message("cni config uninitialized");
  RuntimeCondition cond = FromProto(rc);
  EXPECT_EQ(cond.type, "NetworkReady");
  EXPECT_FALSE(cond.status);
  EXPECT_EQ(cond.reason, "NetworkPluginNotReady");
  EXPECT_EQ(cond.message, "cni config uninitialized");
}

}  // namespace
}  // namespace kite::cri::wire
