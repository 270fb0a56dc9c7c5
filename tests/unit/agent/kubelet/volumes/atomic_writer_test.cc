// AtomicWriter's layout and in-place updates, in a temporary directory.
#include "agent/kubelet/volumes/atomic_writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "agent/kubelet/volumes/fs.h"

namespace kite::kubelet::volumes {
namespace {

namespace fs = std::filesystem;

class AtomicWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/kite-atomic-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override { EXPECT_TRUE(RemoveTree(dir_).ok()); }
  std::string Read(const std::string& rel) {
    std::ifstream in(dir_ + "/" + rel, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  std::vector<std::string> Timestamped() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      const std::string n = e.path().filename();
      if (n.starts_with("..") && n != "..data") out.push_back(n);
    }
    return out;
  }
  std::string dir_;
};

TEST_F(AtomicWriterTest, LayoutModesAndNoOpRewrite) {
  AtomicWriter w(dir_);
  Payload p{{"a.conf", {"alpha", 0644}}, {"nested/b.key", {"beta", 0400}}, {"run.sh", {"#!/bin/sh", 0755}}};
  auto r = w.Write(p);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(*r);
  EXPECT_EQ(Read("a.conf"), "alpha");
  EXPECT_EQ(Read("nested/b.key"), "beta");
  EXPECT_EQ(fs::read_symlink(dir_ + "/a.conf"), "..data/a.conf");
  EXPECT_EQ(fs::read_symlink(dir_ + "/nested"), "..data/nested");
  const std::string ts = fs::read_symlink(dir_ + "/..data");
  EXPECT_TRUE(ts.starts_with("..")) << ts;
  struct stat st {};
  ASSERT_EQ(stat((dir_ + "/nested/b.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0400u);
  ASSERT_EQ(stat((dir_ + "/run.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);

  auto again = w.Write(p);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);  // nothing changed, nothing written
  EXPECT_EQ(fs::read_symlink(dir_ + "/..data"), ts);
}

TEST_F(AtomicWriterTest, UpdateReplacesContentsAndRemovesTheOldDirAndStaleKeys) {
  AtomicWriter w(dir_);
  ASSERT_TRUE(w.Write({{"a", {"1", 0644}}, {"gone", {"x", 0644}}}).ok());
  const std::string old_ts = fs::read_symlink(dir_ + "/..data");
  // An open descriptor keeps reading the old contents; a new open sees the new.
  std::ifstream held(dir_ + "/a");
  auto r = w.Write({{"a", {"2", 0644}}, {"new", {"n", 0600}}});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(*r);
  EXPECT_EQ(Read("a"), "2");
  EXPECT_EQ(Read("new"), "n");
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir_ + "/gone")));
  EXPECT_NE(fs::read_symlink(dir_ + "/..data"), old_ts);
  EXPECT_FALSE(fs::exists(dir_ + "/" + old_ts));
  EXPECT_EQ(Timestamped().size(), 1u);
  std::string old_content;
  held >> old_content;
  EXPECT_EQ(old_content, "1");
  // A mode change alone is a change.
  auto m = w.Write({{"a", {"2", 0600}}, {"new", {"n", 0600}}});
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(*m);
  // Emptied.
  ASSERT_TRUE(w.Write({}).ok());
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir_ + "/a")));
}

TEST_F(AtomicWriterTest, BadPathsRefusedBeforeWriting) {
  AtomicWriter w(dir_);
  for (const char* bad : {"/abs", "../up", "a/../../b", "..hidden", "a//b", "a/./b", "", "x/"}) {
    auto r = w.Write({{bad, {"v", 0644}}});
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(w.Write({{"a", {"1", 0644}}, {"a/b", {"2", 0644}}}).ok());
  EXPECT_FALSE(w.Write({{"a", {"1", 010000}}}).ok());
  EXPECT_TRUE(fs::is_empty(dir_));
  EXPECT_FALSE(AtomicWriter(dir_ + "/missing").Write({{"a", {"1", 0644}}}).ok());
}

TEST_F(AtomicWriterTest, RemoveTreeDoesNotFollowSymlinks) {
  char outside[] = "/tmp/kite-outside-XXXXXX";
  ASSERT_NE(mkdtemp(outside), nullptr);
  std::ofstream(std::string(outside) + "/keep") << "precious";
  fs::create_directories(dir_ + "/pod/sub");
  fs::create_directory_symlink(outside, dir_ + "/pod/sub/link");
  fs::create_symlink(std::string(outside) + "/keep", dir_ + "/pod/file-link");
  ASSERT_TRUE(RemoveTree(dir_ + "/pod").ok());
  EXPECT_FALSE(fs::exists(dir_ + "/pod"));
  EXPECT_TRUE(fs::exists(std::string(outside) + "/keep"));
  EXPECT_TRUE(RemoveTree(dir_ + "/pod").ok());  // idempotent
  fs::remove_all(outside);
}

TEST_F(AtomicWriterTest, RemoveTreeStopsAtAMountItCouldNotUnmount) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting tmpfs needs root";
  const std::string mnt = dir_ + "/pod/volumes/m";
  fs::create_directories(mnt);
  ASSERT_TRUE(MountTmpfs(mnt, 1 << 20).ok());
  std::ofstream(mnt + "/data") << "inside the mount";
  EXPECT_TRUE(IsMountPoint(mnt));
  EXPECT_EQ(MountPointsUnder(dir_ + "/pod"), (std::vector<std::string>{mnt}));
  Status s = RemoveTree(dir_ + "/pod");
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.ToString();
  EXPECT_TRUE(fs::exists(mnt + "/data"));  // not emptied
  EXPECT_EQ(RemoveTree(mnt).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(Unmount(mnt).ok());
  EXPECT_TRUE(Unmount(mnt).ok());  // not mounted: fine
  EXPECT_TRUE(RemoveTree(dir_ + "/pod").ok());
}

}  // namespace
}  // namespace kite::kubelet::volumes
