// The supervisor's generated config.toml and paths, and how it says why containerd cannot run.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "agent/cri/containerd.h"
#include "tests/unit/agent/cri/cri_test_env.h"

namespace kite::cri {
namespace {
namespace fs = std::filesystem;

ContainerdOptions Options(const std::string& data_dir, const std::string& sandbox_image) {
  ContainerdOptions o;
  o.data_dir = data_dir;
  o.sandbox_image = sandbox_image;
  return o;
}

TEST(ContainerdConfig, OwnRootStateSocketAndTheCriPluginSettings) {
  auto paths = ContainerdPaths::For("/var/lib/kite");
  EXPECT_EQ(paths.config_file, "/var/lib/kite/agent/etc/containerd/config.toml");
  EXPECT_EQ(paths.root, "/var/lib/kite/agent/containerd");
  EXPECT_EQ(paths.log_file, "/var/lib/kite/agent/containerd/containerd.log");
  EXPECT_TRUE(paths.state.starts_with("/run/kite/")) << paths.state;
  EXPECT_EQ(paths.socket, paths.state + "/containerd.sock");
  EXPECT_LT(paths.socket.size(), 100u);  // a unix socket path has room for 107 bytes
  EXPECT_NE(ContainerdPaths::For("/tmp/other").state, paths.state);

  ContainerdOptions o = Options("/var/lib/kite", "kite.local/pause:3.9");
  o.stream_server_port = 10010;
  o.registry_toml = "[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/x/certs.d\"";
  const std::string toml = ContainerdConfigToml(o, paths, {.snapshotter = "native", .restrict_oom_score_adj = true});
  for (const std::string& want : std::vector<std::string>{
           "version = 2\n",
           "root = \"/var/lib/kite/agent/containerd\"\n",
           "state = \"" + paths.state + "\"\n",
           "[grpc]\n  address = \"" + paths.socket + "\"\n",
           "sandbox_image = \"kite.local/pause:3.9\"\n",
           "stream_server_address = \"127.0.0.1\"\n",
           "stream_server_port = \"10010\"\n",
           "snapshotter = \"native\"\n",
           "SystemdCgroup = false\n",
           "bin_dir = \"/usr/lib/cni\"\n",
           "conf_dir = \"/var/lib/kite/agent/etc/cni/net.d\"\n",
           "\"io.containerd.snapshotter.v1.btrfs\"",
           "netns_mounts_under_state_dir = true\n",
           "restrict_oom_score_adj = true\n",
       }) {
    EXPECT_NE(toml.find(want), std::string::npos) << want << "\nnot in:\n" << toml;
  }
  // The registry configuration comes last, as given.
  EXPECT_TRUE(toml.ends_with("config_path = \"/x/certs.d\"\n")) << toml;
}

TEST(ContainerdConfig, QuotesInPathsAreEscaped) {
  ContainerdOptions o = Options("/d", "a\"b");
  EXPECT_NE(ContainerdConfigToml(o, ContainerdPaths::For("/d"), {}).find("sandbox_image = \"a\\\"b\""),
            std::string::npos);
}

TEST(ContainerdSupervisor, SaysWhyWhenContainerdIsMissing) {
  char tmpl[] = "/tmp/kite-containerd-missing.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  ContainerdOptions o = Options(tmpl, "p");
  o.containerd_binary = "/nonexistent/containerd";
  ContainerdSupervisor sup(o);
  auto s = sup.Start(std::chrono::seconds(5));
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  if (geteuid() == 0) {
    EXPECT_EQ(s.message(), "containerd is not installed: no executable /nonexistent/containerd on PATH (install the containerd package)");
  }
  EXPECT_EQ(sup.problem(), s.message());
  EXPECT_EQ(sup.pid(), 0);
  fs::remove_all(tmpl);
}

TEST(ContainerdSupervisor, SaysWhyWhenNotRoot) {
  if (geteuid() != 0) {
    EXPECT_TRUE(ContainerdPreflight("containerd").starts_with("containerd needs root"));
    return;
  }
  // As nobody, in a child: the preflight's sentence comes back through a pipe.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    std::string why = ContainerdPreflight("containerd");
    (void)!write(fds[1], why.data(), why.size());
    _exit(0);
  }
  close(fds[1]);
  std::string why;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) why.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_EQ(why,
            "containerd needs root, and kite-agent runs as uid 65534 (run it as root, or give it a CRI runtime with "
            "--container-runtime-endpoint)");
}

TEST(ContainerdSupervisor, SaysWhyWhenContainerdRejectsItsConfig) {
  if (std::string skip = testing::RealContainerdSkipReason(); !skip.empty()) GTEST_SKIP() << skip;
  const std::string dir = testing::MakeTestDataDir();
  {
    ContainerdOptions o = Options(dir, "p");
    o.registry_toml = "this is not = = toml";
    o.backoff_min = std::chrono::seconds(30);  // one attempt is enough here
    ContainerdSupervisor sup(o);
    auto s = sup.Start(std::chrono::seconds(30));
    EXPECT_EQ(s.code(), Code::kUnavailable);
    EXPECT_TRUE(s.message().starts_with("containerd exited with status 1")) << s.message();
    EXPECT_NE(s.message().find("toml"), std::string::npos) << s.message();  // from containerd's log
    EXPECT_EQ(sup.problem(), s.message());
  }
  testing::SweepDataDir(dir);
}

}  // namespace
}  // namespace kite::cri
