// base/fs.h's semantics (those of the std::filesystem calls it replaces); its point, files
// dated past 2038 on armhf, is tests/unit/time64_test.cc's.
#include "base/fs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace kite::files {
namespace {

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/files-test-" + std::to_string(::getpid());
    std::filesystem::remove_all(root_);
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_;
};

TEST_F(FilesTest, StatTellsMissingFromOtherErrors) {
  std::error_code ec;
  EXPECT_EQ(Stat(root_ + "/none", ec).type, std::filesystem::file_type::not_found);
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
  std::ofstream(root_ + "/f") << "abc";
  EXPECT_EQ(Stat(root_ + "/f/below", ec).type, std::filesystem::file_type::not_found);  // ENOTDIR
  EXPECT_TRUE(ec);
  EXPECT_EQ(Stat(root_, ec).type, std::filesystem::file_type::directory);
  EXPECT_FALSE(ec);
  EXPECT_FALSE(IsDirectory(root_ + "/none"));
  EXPECT_FALSE(IsRegularFile(root_));
}

TEST_F(FilesTest, FileSizeOfRegularFilesOnly) {
  std::error_code ec;
  std::ofstream(root_ + "/f") << "abc";
  EXPECT_EQ(FileSize(root_ + "/f", ec), 3u);
  EXPECT_FALSE(ec);
  EXPECT_EQ(FileSize(root_, ec), static_cast<uintmax_t>(-1));
  EXPECT_EQ(ec, std::errc::is_a_directory);
  EXPECT_EQ(FileSize(root_ + "/none", ec), static_cast<uintmax_t>(-1));
  EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
}

TEST_F(FilesTest, CreateDirectoriesAsMkdirP) {
  std::error_code ec;
  EXPECT_TRUE(CreateDirectories(root_ + "/a/b/c/", ec));
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(IsDirectory(root_ + "/a/b/c"));
  EXPECT_FALSE(CreateDirectories(root_ + "/a/b", ec));  // there already: not an error
  EXPECT_FALSE(ec);
  EXPECT_FALSE(CreateDirectories(root_ + "/a/./b/../b/c", ec));
  EXPECT_FALSE(ec) << ec.message();
  std::ofstream(root_ + "/file") << "x";
  EXPECT_FALSE(CreateDirectories(root_ + "/file", ec));
  EXPECT_EQ(ec, std::errc::not_a_directory);
  EXPECT_FALSE(CreateDirectories(root_ + "/file/d", ec));
  EXPECT_TRUE(ec);
  EXPECT_FALSE(CreateDirectories("", ec));
  EXPECT_EQ(ec, std::errc::invalid_argument);
  const std::string cwd = std::filesystem::current_path();
  ASSERT_EQ(::chdir(root_.c_str()), 0);
  EXPECT_TRUE(CreateDirectories("rel/x", ec));  // relative to the working directory
  EXPECT_TRUE(IsDirectory(root_ + "/rel/x"));
  ASSERT_EQ(::chdir(cwd.c_str()), 0);
}

TEST_F(FilesTest, CopyTreeKeepsModesAndLinks) {
  std::error_code ec;
  ASSERT_TRUE(CreateDirectories(root_ + "/src/d", ec));
  std::ofstream(root_ + "/src/d/key") << "secret";
  ::chmod((root_ + "/src/d/key").c_str(), 0600);
  std::ofstream(root_ + "/src/empty");
  ASSERT_EQ(::symlink("d/key", (root_ + "/src/link").c_str()), 0);
  CopyTree(root_ + "/src", root_ + "/dst", ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(Stat(root_ + "/dst/d/key", ec).mode, 0600u);
  EXPECT_EQ(FileSize(root_ + "/dst/d/key", ec), 6u);
  EXPECT_EQ(FileSize(root_ + "/dst/empty", ec), 0u);
  EXPECT_EQ(LinkStat(root_ + "/dst/link", ec).type, std::filesystem::file_type::symlink);
  EXPECT_EQ(std::filesystem::read_symlink(root_ + "/dst/link"), "d/key");
  CopyTree(root_ + "/src", root_ + "/dst", ec);  // the target must not exist
  EXPECT_EQ(ec, std::errc::file_exists);
}

TEST_F(FilesTest, TempDirectoryFromTheEnvironment) {
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  std::error_code ec;
  ::setenv("TMPDIR", root_.c_str(), 1);
  EXPECT_EQ(TempDirectory(ec), root_);
  EXPECT_FALSE(ec);
  ::setenv("TMPDIR", (root_ + "/none").c_str(), 1);
  TempDirectory(ec);
  EXPECT_TRUE(ec);
  if (old) ::setenv("TMPDIR", saved.c_str(), 1);
  else ::unsetenv("TMPDIR");
}

}  // namespace
}  // namespace kite::files
