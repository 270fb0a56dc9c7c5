// The CRI client against a real containerd run by ContainerdSupervisor, with the node's CNI
// config: pods get an IP from the pod CIDR, containers run busybox, exec works, stop reports the
// exit code, a sandbox runs with the runtime handler asked for (runc by default),
// and a killed containerd comes back with the containers still running. Needs root,
// containerd, runc, the CNI plugins and build/images/ (skipped, with the reason, otherwise).
// Everything runs in a private network namespace and a temporary data dir, swept at the end and
// at the next start if a run died.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "agent/cri/containerd.h"
#include "agent/cri/cri_client.h"
#include "agent/network/cni_config.h"
#include "tests/unit/agent/cri/cri_test_env.h"
#include "tests/unit/eventually.h"
#include "tests/unit/shell.h"

namespace kite::cri {
namespace {
namespace fs = std::filesystem;
using kite::testing::Eventually;
using std::chrono::seconds;

constexpr const char* kPodCidr = "10.244.7.0/24";

class CriClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    skip_ = testing::RealContainerdSkipReason();
    if (!skip_.empty()) return;
    testing::SweepLeftovers();
    if (auto s = testing::EnterPrivateNetworkNamespace(); !s.ok()) {
      skip_ = s.message();
      return;
    }
    dir_ = new std::string(testing::MakeTestDataDir());
    auto cni = network::WriteCniConfig({.data_dir = *dir_, .pod_cidr = kPodCidr});
    ASSERT_TRUE(cni.ok()) << cni.error().ToString();
    ContainerdOptions options;
    options.data_dir = *dir_;
    options.sandbox_image = testing::kPauseImage;
    supervisor_ = new ContainerdSupervisor(options);
    auto started = supervisor_->Start(seconds(60));
    ASSERT_TRUE(started.ok()) << started.ToString() << "\ncontainerd's log:\n"
                              << kite::testing::Shell("tail -n 30 '" + supervisor_->paths().log_file + "'");
    client_ = new CriClient(supervisor_->endpoint(), {.quick_timeout = seconds(10), .request_timeout = seconds(60)});
    for (const char* archive : {"pause.tar", "busybox.tar"}) {
      std::string err = testing::ImportImage(supervisor_->paths().socket, supervisor_->snapshotter(),
                                             std::string(testing::kImagesDir) + "/" + archive);
      ASSERT_EQ(err, "") << "import of " << archive;
    }
  }

  static void TearDownTestSuite() {
    if (client_) {
      if (auto pods = client_->ListPodSandbox({}); pods.ok()) {
        for (const auto& p : *pods) {
          EXPECT_TRUE(client_->StopPodSandbox(p.id).ok());
          EXPECT_TRUE(client_->RemovePodSandbox(p.id).ok());
        }
      }
    }
    delete client_;
    client_ = nullptr;
    if (supervisor_) supervisor_->Stop();
    delete supervisor_;
    supervisor_ = nullptr;
    // KITE_CRI_TEST_KEEP=1 keeps the data dir (containerd's log, config) to look at; the next
    // run sweeps it.
    if (dir_ && !getenv("KITE_CRI_TEST_KEEP")) testing::SweepDataDir(*dir_);
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_NE(client_, nullptr) << "the suite's set-up failed";
  }

  static PodSandboxConfig Pod(const std::string& name) {
    PodSandboxConfig pod;
    pod.metadata = {.name = name, .uid = "uid-" + name, .namespace_ = "default", .attempt = 0};
    pod.hostname = name;
    pod.log_directory = *dir_ + "/pod-logs/" + name;
    fs::create_directories(pod.log_directory);
    pod.cgroup_parent = testing::TestCgroupParent(*dir_);
    pod.dns_config = DNSConfig{.servers = {"10.43.0.10"}, .searches = {"default.svc.cluster.local"}, .options = {"ndots:5"}};
    pod.labels = {{"io.kubernetes.pod.name", name}, {"kite-test", "cri"}};
    pod.annotations = {{"kite.test/note", "sandbox of " + name}};
    return pod;
  }

  static ContainerConfig Busybox(const std::string& name, std::vector<std::string> command) {
    ContainerConfig c;
    c.metadata = {.name = name, .attempt = 0};
    c.image.image = testing::kBusyboxImage;
    c.command = std::move(command);
    c.log_path = name + ".log";
    c.labels = {{"io.kubernetes.container.name", name}};
    c.annotations = {{"kite.test/container", name}};
    return c;
  }

  // A pod with one running container; returns {sandbox id, container id}.
  static std::pair<std::string, std::string> RunningPod(const std::string& name, const ContainerConfig& c) {
    auto pod = Pod(name);
    auto sandbox = client_->RunPodSandbox(pod);
    EXPECT_TRUE(sandbox.ok()) << sandbox.error().ToString();
    if (!sandbox.ok()) return {};
    auto id = client_->CreateContainer(*sandbox, c, pod);
    EXPECT_TRUE(id.ok()) << id.error().ToString();
    if (!id.ok()) return {*sandbox, ""};
    auto started = client_->StartContainer(*id);
    EXPECT_TRUE(started.ok()) << started.ToString();
    return {*sandbox, *id};
  }

  static std::string skip_;
  static std::string* dir_;
  static ContainerdSupervisor* supervisor_;
  static CriClient* client_;
};

std::string CriClientTest::skip_;
std::string* CriClientTest::dir_ = nullptr;
ContainerdSupervisor* CriClientTest::supervisor_ = nullptr;
CriClient* CriClientTest::client_ = nullptr;

TEST_F(CriClientTest, VersionAndRuntimeStatus) {
  auto v = client_->Version();
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(v->runtime_name, "containerd");
  EXPECT_EQ(v->runtime_api_version, "v1");
  EXPECT_FALSE(v->runtime_version.empty());
  // NetworkReady turns true once containerd has loaded the CNI conflist (it watches the dir).
  std::vector<RuntimeCondition> conditions;
  auto both_ready = [&] {
    auto st = client_->RuntimeStatus();
    if (!st.ok()) return false;
    conditions = *st;
    int ready = 0;
    for (const auto& c : conditions) ready += (c.type == "RuntimeReady" || c.type == "NetworkReady") && c.status;
    return ready == 2;
  };
  EXPECT_TRUE(Eventually(both_ready, seconds(30)));
  EXPECT_TRUE(client_->UpdateRuntimeConfig(kPodCidr).ok());
}

TEST_F(CriClientTest, SandboxGetsAnAddressFromThePodCidr) {
  auto pod = Pod("net");
  auto id = client_->RunPodSandbox(pod);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  auto st = client_->PodSandboxStatus(*id);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(st->id, *id);
  EXPECT_EQ(st->state, PodSandboxState::kReady);
  EXPECT_TRUE(st->ip.starts_with("10.244.7.")) << st->ip;
  EXPECT_EQ(st->metadata.name, "net");
  EXPECT_EQ(st->metadata.uid, "uid-net");
  EXPECT_EQ(st->metadata.namespace_, "default");
  EXPECT_GT(st->created_at, 0);
  EXPECT_EQ(st->labels.at("kite-test"), "cri");
  EXPECT_EQ(st->annotations.at("kite.test/note"), "sandbox of net");

  // The filters: by id, by label, by state.
  auto by_id = client_->ListPodSandbox({.id = *id});
  ASSERT_TRUE(by_id.ok());
  ASSERT_EQ(by_id->size(), 1u);
  EXPECT_EQ((*by_id)[0].metadata.name, "net");
  EXPECT_EQ((*by_id)[0].state, PodSandboxState::kReady);
  auto by_label = client_->ListPodSandbox({.label_selector = {{"io.kubernetes.pod.name", "net"}}});
  ASSERT_TRUE(by_label.ok());
  EXPECT_EQ(by_label->size(), 1u);
  auto nobody = client_->ListPodSandbox({.label_selector = {{"io.kubernetes.pod.name", "nobody"}}});
  ASSERT_TRUE(nobody.ok());
  EXPECT_TRUE(nobody->empty());

  // Stop releases the network, twice is fine; the stopped sandbox is NotReady; remove twice too.
  ASSERT_TRUE(client_->StopPodSandbox(*id).ok());
  EXPECT_TRUE(client_->StopPodSandbox(*id).ok());
  auto stopped = client_->PodSandboxStatus(*id);
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->state, PodSandboxState::kNotReady);
  auto not_ready = client_->ListPodSandbox({.id = *id, .state = PodSandboxState::kNotReady});
  ASSERT_TRUE(not_ready.ok());
  EXPECT_EQ(not_ready->size(), 1u);
  auto ready = client_->ListPodSandbox({.id = *id, .state = PodSandboxState::kReady});
  ASSERT_TRUE(ready.ok());
  EXPECT_TRUE(ready->empty());
  ASSERT_TRUE(client_->RemovePodSandbox(*id).ok());
  EXPECT_TRUE(client_->RemovePodSandbox(*id).ok());
  EXPECT_TRUE(client_->PodSandboxStatus(*id).NotFound());
}

TEST_F(CriClientTest, ContainerRunsExecsAndStops) {
  const std::string volume = *dir_ + "/volume";
  fs::create_directories(volume);
  std::ofstream(volume + "/hello") << "hello from the host\n";
  auto c = Busybox("app", {"sleep", "3600"});
  c.envs = {{"KITE_GREETING", "bonjour"}};
  c.mounts = {{.container_path = "/data", .host_path = volume, .readonly = true}};
  auto [sandbox, id] = RunningPod("app", c);
  ASSERT_FALSE(id.empty());

  auto st = client_->ContainerStatus(id);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(st->state, ContainerState::kRunning);
  EXPECT_EQ(st->metadata.name, "app");
  EXPECT_GT(st->started_at, 0);
  EXPECT_EQ(st->labels.at("io.kubernetes.container.name"), "app");
  EXPECT_EQ(st->annotations.at("kite.test/container"), "app");
  EXPECT_FALSE(st->image_ref.empty());
  EXPECT_TRUE(st->log_path.ends_with("app.log")) << st->log_path;

  auto env = client_->ExecSync(id, {"sh", "-c", "echo $KITE_GREETING"}, 10);
  ASSERT_TRUE(env.ok()) << env.error().ToString();
  EXPECT_EQ(env->stdout_, "bonjour\n");
  EXPECT_EQ(env->exit_code, 0);
  auto file = client_->ExecSync(id, {"cat", "/data/hello"}, 10);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->stdout_, "hello from the host\n");
  auto readonly = client_->ExecSync(id, {"touch", "/data/new"}, 10);
  ASSERT_TRUE(readonly.ok());
  EXPECT_NE(readonly->exit_code, 0);
  EXPECT_FALSE(readonly->stderr_.empty());
  auto exit3 = client_->ExecSync(id, {"sh", "-c", "echo oops >&2; exit 3"}, 10);
  ASSERT_TRUE(exit3.ok());
  EXPECT_EQ(exit3->exit_code, 3);
  EXPECT_EQ(exit3->stderr_, "oops\n");

  // The filters: by sandbox, by state, by label, by id.
  auto in_pod = client_->ListContainers({.pod_sandbox_id = sandbox});
  ASSERT_TRUE(in_pod.ok());
  ASSERT_EQ(in_pod->size(), 1u);
  EXPECT_EQ((*in_pod)[0].id, id);
  EXPECT_EQ((*in_pod)[0].pod_sandbox_id, sandbox);
  EXPECT_EQ((*in_pod)[0].state, ContainerState::kRunning);
  EXPECT_EQ((*in_pod)[0].metadata.name, "app");
  auto running = client_->ListContainers({.id = id, .state = ContainerState::kRunning});
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->size(), 1u);
  auto by_label = client_->ListContainers({.label_selector = {{"io.kubernetes.container.name", "app"}}});
  ASSERT_TRUE(by_label.ok());
  EXPECT_EQ(by_label->size(), 1u);

  // sleep, as process 1, ignores SIGTERM: killed after the 1 s grace.
  ASSERT_TRUE(client_->StopContainer(id, 1).ok());
  auto exited = client_->ContainerStatus(id);
  ASSERT_TRUE(exited.ok());
  EXPECT_EQ(exited->state, ContainerState::kExited);
  EXPECT_EQ(exited->exit_code, 137);
  EXPECT_EQ(exited->reason, "Error");
  EXPECT_GE(exited->finished_at, exited->started_at);
  auto none_running = client_->ListContainers({.id = id, .state = ContainerState::kRunning});
  ASSERT_TRUE(none_running.ok());
  EXPECT_TRUE(none_running->empty());
  EXPECT_TRUE(client_->StopContainer(id, 1).ok());

  ASSERT_TRUE(client_->RemoveContainer(id).ok());
  EXPECT_TRUE(client_->RemoveContainer(id).ok());
  EXPECT_TRUE(client_->ContainerStatus(id).NotFound());
  ASSERT_TRUE(client_->RemovePodSandbox(sandbox).ok());
}

TEST_F(CriClientTest, PodAndContainerSettingsReachTheContainer) {
  auto pod = Pod("settings");
  pod.hostname = "configured-host";
  auto c = Busybox("settings", {"sleep", "3600"});
  c.working_dir = "/tmp";
  c.resources = {.cpu_period = 100000, .cpu_quota = 50000, .cpu_shares = 512, .memory_limit_in_bytes = 64 << 20};
  c.security_context.run_as_user = 65534;
  c.security_context.run_as_group = 65534;
  c.security_context.supplemental_groups = {1234};
  c.security_context.readonly_rootfs = true;
  c.security_context.no_new_privs = true;
  auto sandbox = client_->RunPodSandbox(pod);
  ASSERT_TRUE(sandbox.ok()) << sandbox.error().ToString();
  auto id = client_->CreateContainer(*sandbox, c, pod);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  ASSERT_TRUE(client_->StartContainer(*id).ok());
  auto run = [&](const std::string& script) {
    auto r = client_->ExecSync(*id, {"sh", "-c", script}, 10);
    EXPECT_TRUE(r.ok()) << script << ": " << (r.ok() ? "" : r.error().ToString());
    return r.ok() ? r->stdout_ + r->stderr_ : std::string();
  };
  EXPECT_EQ(run("id -u; id -g; pwd; hostname"), "65534\n65534\n/tmp\nconfigured-host\n");
  EXPECT_NE(run("id -G").find("1234"), std::string::npos);
  EXPECT_NE(run("touch /tmp/x").find("Read-only file system"), std::string::npos);
  EXPECT_NE(run("grep NoNewPrivs /proc/self/status").find("1"), std::string::npos);
  const std::string resolv = run("cat /etc/resolv.conf");
  EXPECT_NE(resolv.find("nameserver 10.43.0.10"), std::string::npos) << resolv;
  EXPECT_NE(resolv.find("search default.svc.cluster.local"), std::string::npos) << resolv;
  EXPECT_NE(resolv.find("options ndots:5"), std::string::npos) << resolv;
  // The cgroup limits, as the container sees its cgroup (v1 controllers or v2's files).
  EXPECT_EQ(run("cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max"),
            std::to_string(64 << 20) + "\n");
  EXPECT_EQ(run("cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max"), "50000\n");
  ASSERT_TRUE(client_->RemovePodSandbox(*sandbox).ok());
}

TEST_F(CriClientTest, PodIpAndHostPortReachTheContainer) {
  auto pod = Pod("web");
  pod.port_mappings = {{.protocol = Protocol::kTCP, .container_port = 80, .host_port = 18080, .host_ip = ""}};
  auto sandbox = client_->RunPodSandbox(pod);
  ASSERT_TRUE(sandbox.ok()) << sandbox.error().ToString();
  auto id = client_->CreateContainer(*sandbox, Busybox("web", {"httpd", "-f", "-p", "80", "-h", "/var/www"}), pod);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  ASSERT_TRUE(client_->StartContainer(*id).ok());
  auto st = client_->PodSandboxStatus(*sandbox);
  ASSERT_TRUE(st.ok());
  // From the node (this process shares containerd's network namespace): the pod's IP, then the
  // hostPort on the bridge's address (portmap's DNAT for local destinations).
  std::string page;
  auto get = [&](const std::string& url) {
    page = kite::testing::Shell("curl -sS -m 2 " + url + " 2>&1");
    return page == "kite test image\n";
  };
  EXPECT_TRUE(Eventually([&] { return get("http://" + st->ip + ":80/"); }, seconds(20))) << page;
  EXPECT_TRUE(Eventually([&] { return get("http://10.244.7.1:18080/"); }, seconds(20))) << page;
  ASSERT_TRUE(client_->RemovePodSandbox(*sandbox).ok());
  // The port is released with the sandbox.
  EXPECT_TRUE(Eventually([&] { return !get("http://10.244.7.1:18080/"); }, seconds(20))) << page;
}

TEST_F(CriClientTest, GracefulStopReportsTheExitCode) {
  // A container that handles SIGTERM exits with its own code within the grace.
  auto c = Busybox("graceful", {"sh", "-c", "echo started; trap 'exit 7' TERM; while true; do sleep 0.1; done"});
  auto [sandbox, id] = RunningPod("graceful", c);
  ASSERT_FALSE(id.empty());
  // Its output goes to <log_directory>/<log_path> in CRI's log format ("<time> stdout F <line>").
  const std::string log = *dir_ + "/pod-logs/graceful/graceful.log";
  EXPECT_TRUE(Eventually([&] { return kite::testing::Shell("cat '" + log + "'").find(" stdout F started\n") != std::string::npos; }));
  EXPECT_TRUE(client_->ReopenContainerLog(id).ok());
  ASSERT_TRUE(client_->StopContainer(id, 30).ok());
  auto st = client_->ContainerStatus(id);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, ContainerState::kExited);
  EXPECT_EQ(st->exit_code, 7);
  // Removing the sandbox removes its containers.
  ASSERT_TRUE(client_->RemovePodSandbox(sandbox).ok());
  EXPECT_TRUE(client_->ContainerStatus(id).NotFound());
}

TEST_F(CriClientTest, UnknownIdsAreNotFoundAndStopRemoveAreIdempotent) {
  EXPECT_TRUE(client_->ContainerStatus("no-such-container").NotFound());
  EXPECT_TRUE(client_->PodSandboxStatus("no-such-sandbox").NotFound());
  EXPECT_TRUE(client_->ExecSync("no-such-container", {"true"}, 5).NotFound());
  EXPECT_TRUE(client_->StartContainer("no-such-container").IsNotFound());
  EXPECT_TRUE(client_->StopContainer("no-such-container", 1).ok());
  EXPECT_TRUE(client_->RemoveContainer("no-such-container").ok());
  EXPECT_TRUE(client_->StopPodSandbox("no-such-sandbox").ok());
  EXPECT_TRUE(client_->RemovePodSandbox("no-such-sandbox").ok());
  auto pod = Pod("orphan");
  auto created = client_->CreateContainer("no-such-sandbox", Busybox("x", {"true"}), pod);
  EXPECT_TRUE(created.NotFound()) << (created.ok() ? "ok" : created.error().ToString());
}

TEST_F(CriClientTest, ExecSyncTimeoutIsDeadlineExceeded) {
  auto [sandbox, id] = RunningPod("exec-timeout", Busybox("sleeper", {"sleep", "3600"}));
  ASSERT_FALSE(id.empty());
  auto r = client_->ExecSync(id, {"sleep", "30"}, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kDeadlineExceeded) << r.error().ToString();
  ASSERT_TRUE(client_->RemovePodSandbox(sandbox).ok());
}

TEST_F(CriClientTest, CancelAllEndsAStopInItsGracePeriodAndLeavesTheContainerRunning) {
  auto [sandbox, id] = RunningPod("stubborn", Busybox("stubborn", {"sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"}));
  ASSERT_FALSE(id.empty());
  CriClient stopping(supervisor_->endpoint());  // the one a stopping kubelet cancels
  auto stop = std::async(std::launch::async, [&] { return stopping.StopContainer(id, 600); });
  // Once containerd got the call (SIGTERM sent, the grace period running), cancel it.
  EXPECT_EQ(stop.wait_for(std::chrono::seconds(1)), std::future_status::timeout);
  stopping.CancelAll();
  ASSERT_EQ(stop.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(stop.get().code(), Code::kCancelled);
  EXPECT_EQ(stopping.Version().status().code(), Code::kCancelled);  // later calls too, at once
  auto st = client_->ContainerStatus(id);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(st->state, ContainerState::kRunning);
  ASSERT_TRUE(client_->RemovePodSandbox(sandbox).ok());
}

TEST_F(CriClientTest, WritableLayerUsageIsListed) {
  auto [sandbox, id] = RunningPod("writer", Busybox("writer", {"sh", "-c", "dd if=/dev/zero of=/big bs=1048576 count=8; sleep 3600"}));
  ASSERT_FALSE(id.empty());
  // containerd measures the snapshots every 10 s (stats_collect_period).
  uint64_t bytes = 0;
  EXPECT_TRUE(Eventually([&] {
    auto usage = client_->ListContainerDiskUsage();
    if (!usage.ok()) return false;
    for (const auto& u : *usage) {
      if (u.id == id) bytes = u.writable_layer_bytes;
    }
    return bytes >= 8u << 20;
  }, seconds(40))) << bytes;
  ASSERT_TRUE(client_->RemovePodSandbox(sandbox).ok());
}

TEST_F(CriClientTest, Images) {
  auto images = client_->ListImages();
  ASSERT_TRUE(images.ok()) << images.error().ToString();
  bool found = false;
  for (const auto& i : *images) {
    for (const auto& t : i.repo_tags) found |= t == testing::kBusyboxImage;
  }
  EXPECT_TRUE(found);
  auto busybox = client_->ImageStatus({.image = testing::kBusyboxImage});
  ASSERT_TRUE(busybox.ok()) << busybox.error().ToString();
  ASSERT_TRUE(busybox->has_value());
  EXPECT_TRUE((*busybox)->id.starts_with("sha256:")) << (*busybox)->id;
  EXPECT_GT((*busybox)->size, 0u);
  auto missing = client_->ImageStatus({.image = "kite.local/no-such-image:1"});
  ASSERT_TRUE(missing.ok()) << missing.error().ToString();
  EXPECT_FALSE(missing->has_value());
  auto fs_info = client_->ImageFsInfo();
  ASSERT_TRUE(fs_info.ok()) << fs_info.error().ToString();
  ASSERT_FALSE(fs_info->empty());
  EXPECT_TRUE((*fs_info)[0].mountpoint.starts_with(*dir_)) << (*fs_info)[0].mountpoint;
  // A registry that is not there: the pull fails, as an error value, quickly.
  auto pulled = client_->PullImage({.image = "127.0.0.1:1/kite/absent:1"}, std::nullopt, Pod("puller"));
  EXPECT_FALSE(pulled.ok());
  EXPECT_TRUE(client_->RemoveImage({.image = "kite.local/no-such-image:1"}).ok());
}

// Which OCI runtime ran a container: its state dir under the handler's root
// (containerd_config.h), "" when neither has it.
std::string RuntimeOf(const std::string& state, const std::string& id) {
  for (const char* handler : {"runc", "crun"}) {
    if (fs::exists(state + "/" + handler + "/k8s.io/" + id)) return handler;
  }
  return "";
}

TEST_F(CriClientTest, SandboxesRunWithTheirRuntimeHandler) {
  const std::string state = supervisor_->paths().state;
  // No handler: containerd's default, runc.
  auto [plain, plain_ctr] = RunningPod("handler-default", Busybox("c", {"sleep", "3600"}));
  ASSERT_FALSE(plain_ctr.empty());
  EXPECT_EQ(RuntimeOf(state, plain), "runc");
  EXPECT_EQ(RuntimeOf(state, plain_ctr), "runc");  // the sandbox's runtime
  auto exec = client_->ExecSync(plain_ctr, {"echo", "hi"}, 10);
  ASSERT_TRUE(exec.ok()) << exec.error().ToString();
  EXPECT_EQ(exec->stdout_, "hi\n");

  // runc asked for by name (a RuntimeClass's handler).
  auto pod = Pod("handler-runc");
  pod.runtime_handler = "runc";
  auto sandbox = client_->RunPodSandbox(pod);
  ASSERT_TRUE(sandbox.ok()) << sandbox.error().ToString();
  auto id = client_->CreateContainer(*sandbox, Busybox("c", {"sleep", "3600"}), pod);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  ASSERT_TRUE(client_->StartContainer(*id).ok());
  EXPECT_EQ(RuntimeOf(state, *sandbox), "runc");
  EXPECT_EQ(RuntimeOf(state, *id), "runc");

  // A handler the node does not have is refused, and says which.
  auto other = Pod("handler-none");
  other.runtime_handler = "no-such-handler";
  auto refused = client_->RunPodSandbox(other);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("no-such-handler"), std::string::npos) << refused.error().ToString();
  for (const auto& s : {plain, *sandbox}) {
    EXPECT_TRUE(client_->StopPodSandbox(s).ok());
    EXPECT_TRUE(client_->RemovePodSandbox(s).ok());
  }
}

TEST_F(CriClientTest, KilledContainerdIsRestartedAndKeepsTheContainers) {
  auto [sandbox, id] = RunningPod("survivor", Busybox("survivor", {"sleep", "3600"}));
  ASSERT_FALSE(id.empty());
  auto before = client_->ContainerStatus(id);
  ASSERT_TRUE(before.ok());
  const int old_pid = supervisor_->pid();
  const int old_restarts = supervisor_->restarts();
  ASSERT_GT(old_pid, 0);
  ASSERT_EQ(kill(old_pid, SIGKILL), 0);
  EXPECT_TRUE(Eventually([&] { return supervisor_->restarts() > old_restarts; }, seconds(30)));
  ASSERT_TRUE(supervisor_->WaitReady(seconds(60)).ok()) << supervisor_->problem();
  EXPECT_NE(supervisor_->pid(), old_pid);
  EXPECT_EQ(supervisor_->problem(), "");
  auto after = client_->ContainerStatus(id);
  ASSERT_TRUE(after.ok()) << after.error().ToString();
  EXPECT_EQ(after->state, ContainerState::kRunning);
  EXPECT_EQ(after->started_at, before->started_at);  // the same process, not a new start
  auto exec = client_->ExecSync(id, {"echo", "still here"}, 10);
  ASSERT_TRUE(exec.ok()) << exec.error().ToString();
  EXPECT_EQ(exec->stdout_, "still here\n");

  // A clean stop and a new start (what an agent restart does) adopts it too.
  supervisor_->Stop();
  EXPECT_EQ(supervisor_->pid(), 0);
  auto down = client_->Version();
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code(), Code::kUnavailable) << down.error().ToString();
  ASSERT_TRUE(supervisor_->Start(seconds(60)).ok()) << supervisor_->problem();
  auto adopted = client_->ContainerStatus(id);
  ASSERT_TRUE(adopted.ok()) << adopted.error().ToString();
  EXPECT_EQ(adopted->state, ContainerState::kRunning);
  EXPECT_EQ(adopted->started_at, before->started_at);

  // An agent that died and left its containerd running: the next start replaces that one.
  supervisor_->Stop();
  const std::string stray_pid = kite::testing::Shell("containerd --config '" + supervisor_->paths().config_file +
                                                     "' >/dev/null 2>&1 & echo -n $!");
  ASSERT_FALSE(stray_pid.empty());
  ASSERT_TRUE(Eventually([&] { return client_->Version().ok(); }, seconds(30)));
  ASSERT_TRUE(supervisor_->Start(seconds(60)).ok()) << supervisor_->problem();
  EXPECT_NE(std::to_string(supervisor_->pid()), stray_pid);
  EXPECT_TRUE(Eventually([&] { return kill(std::stoi(stray_pid), 0) != 0; }, seconds(10)));
  auto after_stray = client_->ContainerStatus(id);
  ASSERT_TRUE(after_stray.ok()) << after_stray.error().ToString();
  EXPECT_EQ(after_stray->state, ContainerState::kRunning);
  EXPECT_EQ(after_stray->started_at, before->started_at);
  ASSERT_TRUE(client_->RemovePodSandbox(sandbox).ok());
}

}  // namespace
}  // namespace kite::cri
