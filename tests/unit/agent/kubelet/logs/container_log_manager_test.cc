// Log rotation: a file at the size limit is renamed and reopened, old rotated files go so that
// at most max_files remain, and a failed reopen leaves the log where it was.
#include "agent/kubelet/logs/container_log_manager.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace kite::kubelet::logs {
namespace {
namespace fs = std::filesystem;

class RotateLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/rotate_log_test";
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    log_ = dir_ + "/0.log";
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(size_t bytes) { std::ofstream(log_) << std::string(bytes, 'x'); }
  std::string dir_, log_;
};

TEST_F(RotateLogTest, BelowTheSizeNothingHappens) {
  ContainerLogOptions o;
  o.max_size = 100;
  Write(99);
  int reopened = 0;
  auto r = RotateLog(log_, o, [&] { ++reopened; return Status::Ok(); }, std::chrono::system_clock::now());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(reopened, 0);
  EXPECT_TRUE(RotatedLogs(log_).empty());
}

TEST_F(RotateLogTest, RotatesAndKeepsAtMostMaxFiles) {
  ContainerLogOptions o;
  o.max_size = 100;
  o.max_files = 3;
  auto t = std::chrono::system_clock::from_time_t(1714557600);  // 2024-05-01 10:00:00 UTC
  for (int i = 0; i < 5; ++i) {
    Write(100);
    // The runtime's reopen: a new, empty file at the path.
    auto r = RotateLog(log_, o, [&] { std::ofstream(log_).flush(); return Status::Ok(); }, t + std::chrono::seconds(i));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(*r);
  }
  auto rotated = RotatedLogs(log_);
  ASSERT_EQ(rotated.size(), 2u);  // + the current one = max_files
  EXPECT_EQ(fs::path(rotated[0]).filename(), "0.log.20240501-100003");
  EXPECT_EQ(fs::path(rotated[1]).filename(), "0.log.20240501-100004");
  EXPECT_TRUE(fs::exists(log_));
  EXPECT_EQ(fs::file_size(log_), 0u);
}

TEST_F(RotateLogTest, AFailedReopenPutsTheLogBack) {
  ContainerLogOptions o;
  o.max_size = 10;
  Write(50);
  auto r = RotateLog(log_, o, [] { return Status(Code::kUnavailable, "runtime down"); }, std::chrono::system_clock::now());
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(RotatedLogs(log_).empty());
  EXPECT_EQ(fs::file_size(log_), 50u);
}

TEST(ParseContainerLogOptions, UpstreamDefaultsAndLimits) {
  auto o = ParseContainerLogOptions("10Mi", 5);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->max_size, 10 * 1024 * 1024);
  EXPECT_EQ(o->max_files, 5);
  EXPECT_FALSE(ParseContainerLogOptions("ten", 5).ok());
  EXPECT_FALSE(ParseContainerLogOptions("0", 5).ok());
  EXPECT_FALSE(ParseContainerLogOptions("1Mi", 1).ok());
}

}  // namespace
}  // namespace kite::kubelet::logs
