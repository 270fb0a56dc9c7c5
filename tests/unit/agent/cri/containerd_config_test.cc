// containerd_config.h: the generated config.toml, paths and runtime handlers, and how the
// preflight says why containerd cannot run.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "agent/cri/containerd_config.h"

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

TEST(ContainerdConfig, RuntimeHandlersAndTheDefault) {
  const auto paths = ContainerdPaths::For("/var/lib/kite");
  ContainerdHostFacts facts;
  facts.runtimes = {{"runc", ""}, {"crun", "/usr/bin/crun"}};
  facts.default_runtime = "crun";
  const std::string toml = ContainerdConfigToml(Options("/var/lib/kite", "p"), paths, facts);
  const std::string cri = "[plugins.\"io.containerd.grpc.v1.cri\".containerd";
  for (const std::string& want : std::vector<std::string>{
           "  default_runtime_name = \"crun\"\n",
           cri + ".runtimes.runc]\n  runtime_type = \"io.containerd.runc.v2\"\n",
           cri + ".runtimes.runc.options]\n  SystemdCgroup = false\n  Root = \"" + paths.state + "/runc\"\n",
           cri + ".runtimes.crun]\n  runtime_type = \"io.containerd.runc.v2\"\n",
           cri + ".runtimes.crun.options]\n  BinaryName = \"/usr/bin/crun\"\n  SystemdCgroup = false\n  Root = \"" +
               paths.state + "/crun\"\n",
       }) {
    EXPECT_NE(toml.find(want), std::string::npos) << want << "\nnot in:\n" << toml;
  }
  // runc: the shim's own default binary, no BinaryName.
  EXPECT_EQ(toml.find("BinaryName"), toml.rfind("BinaryName")) << toml;
  // The defaults of the facts: runc only, and the default.
  const std::string plain = ContainerdConfigToml(Options("/var/lib/kite", "p"), paths, {});
  EXPECT_NE(plain.find("default_runtime_name = \"runc\"\n"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("runtimes.crun"), std::string::npos) << plain;
}

// A fake root with executables at `files` (relative paths), directories at `dirs`.
std::string FakeRoot(const std::vector<std::string>& files, const std::vector<std::string>& dirs = {},
                     const std::vector<std::string>& not_executable = {}) {
  char tmpl[] = "/tmp/kite-runtimes-root.XXXXXX";
  EXPECT_NE(mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  for (const auto& f : files) {
    fs::create_directories(fs::path(root + "/" + f).parent_path());
    std::ofstream(root + "/" + f) << "#!/bin/sh\n";
    fs::permissions(root + "/" + f, fs::perms::owner_all);
  }
  for (const auto& f : not_executable) {
    fs::create_directories(fs::path(root + "/" + f).parent_path());
    std::ofstream(root + "/" + f) << "not a program\n";
    fs::permissions(root + "/" + f, fs::perms::owner_read | fs::perms::owner_write);
  }
  for (const auto& d : dirs) fs::create_directories(root + "/" + d);
  return root;
}

TEST(ContainerdConfig, CrunIsFoundWhereK3sLooksInItsOrder) {
  const std::string none = FakeRoot({});
  EXPECT_EQ(FindRuntimeHandlers(none), (std::vector<RuntimeHandler>{{"runc", ""}}));

  const std::string local = FakeRoot({"usr/local/bin/crun"});
  EXPECT_EQ(FindRuntimeHandlers(local), (std::vector<RuntimeHandler>{{"runc", ""}, {"crun", local + "/usr/local/bin/crun"}}));

  // /usr/sbin before /usr/bin before /usr/local/…
  const std::string both = FakeRoot({"usr/bin/crun", "usr/sbin/crun", "usr/local/sbin/crun"});
  EXPECT_EQ(FindRuntimeHandlers(both), (std::vector<RuntimeHandler>{{"runc", ""}, {"crun", both + "/usr/sbin/crun"}}));

  // A directory, or a file root may not run, is not a runtime (root runs any file with an x
  // bit; this one has none).
  const std::string odd = FakeRoot({}, {"usr/sbin/crun"}, {"usr/bin/crun"});
  EXPECT_EQ(FindRuntimeHandlers(odd), (std::vector<RuntimeHandler>{{"runc", ""}}));
  for (const auto& d : {none, local, both, odd}) fs::remove_all(d);
}

TEST(ContainerdConfig, DefaultRuntimeIsRuncUnlessTheFlagSaysOtherwise) {
  const std::vector<RuntimeHandler> with_crun = {{"runc", ""}, {"crun", "/usr/bin/crun"}};
  const std::vector<RuntimeHandler> runc_only = {{"runc", ""}};
  EXPECT_EQ(*ChooseDefaultRuntime("", with_crun), "runc");
  EXPECT_EQ(*ChooseDefaultRuntime("", runc_only), "runc");
  EXPECT_EQ(*ChooseDefaultRuntime("runc", with_crun), "runc");  // k3s's default
  EXPECT_EQ(*ChooseDefaultRuntime("crun", with_crun), "crun");
  auto missing = ChooseDefaultRuntime("crun", runc_only);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(missing.error().message(),
            "--default-runtime crun: no crun executable in /usr/sbin, /usr/bin, /usr/local/bin or /usr/local/sbin "
            "(install the crun package)");
  auto unknown = ChooseDefaultRuntime("kata", with_crun);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message(), "--default-runtime kata: no such runtime handler on this node (it has runc, crun)");
}

TEST(ContainerdPreflight, SaysWhyWhenNotRoot) {
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

}  // namespace
}  // namespace kite::cri
