// ContainerdSupervisor (containerd.h): how it says why containerd does not start. Its life with a
// real containerd (restarts, adoption of running containers) is tested in cri_client_test.cc,
// whose suite shares one containerd.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "agent/cri/containerd.h"
#include "tests/unit/agent/cri/cri_test_env.h"

namespace kite::cri {
namespace {
namespace fs = std::filesystem;

ContainerdOptions SupervisorOptions(const std::string& data_dir) {
  ContainerdOptions o;
  o.data_dir = data_dir;
  o.sandbox_image = "p";
  return o;
}

TEST(ContainerdSupervisor, SaysWhyWhenContainerdIsMissing) {
  char tmpl[] = "/tmp/kite-containerd-missing.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  ContainerdOptions o = SupervisorOptions(tmpl);
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

TEST(ContainerdSupervisor, SaysWhyWhenContainerdRejectsItsConfig) {
  if (std::string skip = testing::RealContainerdSkipReason(); !skip.empty()) GTEST_SKIP() << skip;
  const std::string dir = testing::MakeTestDataDir();
  {
    ContainerdOptions o = SupervisorOptions(dir);
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

TEST(ContainerdSupervisor, SaysWhyWhenTheDefaultRuntimeIsMissing) {
  if (std::string skip = testing::RealContainerdSkipReason(); !skip.empty()) GTEST_SKIP() << skip;
  const std::string dir = testing::MakeTestDataDir();
  {
    ContainerdOptions o = SupervisorOptions(dir);
    o.default_runtime = "crun";
    o.runtime_search_root = dir;  // no crun there
    ContainerdSupervisor sup(o);
    auto s = sup.Start(std::chrono::seconds(30));
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_TRUE(s.message().starts_with("--default-runtime crun: no crun executable in /usr/sbin")) << s.message();
    EXPECT_EQ(sup.problem(), s.message());
    EXPECT_EQ(sup.pid(), 0);
  }
  testing::SweepDataDir(dir);
}

}  // namespace
}  // namespace kite::cri
