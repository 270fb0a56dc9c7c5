#include "base/flags.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace kite {
namespace {

struct Opts {
  std::string dir = "/var/lib/kite";
  int64_t n = 5;
  bool on = false;
  int64_t every_ms = 1000;
  std::vector<std::string> sans;
};

FlagSet Declare(Opts& o) {
  FlagSet f("test");
  f.String("data-dir", &o.dir, "dir");
  f.Int("n", &o.n, "n");
  f.Bool("on", &o.on, "on");
  f.Duration("every", &o.every_ms, "every");
  f.StringList("tls-san", &o.sans, "sans");
  return f;
}

Status ParseArgs(FlagSet& f, std::vector<std::string> args, const std::string& def = "") {
  args.insert(args.begin(), "prog");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return f.Parse(static_cast<int>(argv.size()), argv.data(), def);
}

TEST(Flags, ParsesFormsAndTypes) {
  Opts o;
  auto f = Declare(o);
  ASSERT_TRUE(ParseArgs(f, {"--data-dir=/tmp/x", "--n", "7", "--on", "--every=1m30s", "--tls-san=a,b", "--tls-san", "c"}).ok());
  EXPECT_EQ(o.dir, "/tmp/x");
  EXPECT_EQ(o.n, 7);
  EXPECT_TRUE(o.on);
  EXPECT_EQ(o.every_ms, 90'000);
  EXPECT_EQ(o.sans, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Flags, ForwardSetsOtherFlagsUnderTheirOwnNames) {
  Opts o;
  o.sans = {"default"};
  auto f = Declare(o);
  f.Forward("kubelet-arg", {{"count", "n"}, {"sans", "tls-san"}}, "k3s style");
  ASSERT_TRUE(ParseArgs(f, {"--kubelet-arg=count=9", "--kubelet-arg", "--sans=x,y", "--kubelet-arg=sans=z"}).ok());
  EXPECT_EQ(o.n, 9);
  EXPECT_EQ(o.sans, (std::vector<std::string>{"x", "y", "z"}));  // the default dropped, values kept
  Opts o2;
  auto f2 = Declare(o2);
  f2.Forward("kubelet-arg", {{"count", "n"}}, "k3s style");
  EXPECT_EQ(ParseArgs(f2, {"--kubelet-arg=feature-gates=X=true"}).message(),
            "--kubelet-arg: \"feature-gates\" is not a flag kite takes (it takes count)");
}

TEST(Flags, RejectsUnknownAndBadValues) {
  Opts o;
  auto f = Declare(o);
  EXPECT_EQ(ParseArgs(f, {"--nope=1"}).message(), "unknown flag: --nope");
  Opts o2;
  auto f2 = Declare(o2);
  EXPECT_FALSE(ParseArgs(f2, {"--n=abc"}).ok());
  Opts o3;
  auto f3 = Declare(o3);
  EXPECT_FALSE(ParseArgs(f3, {"--every=5x"}).ok());
}

TEST(Flags, ConfigFileUsesSameKeysAndCommandLineWins) {
  std::string path = ::testing::TempDir() + "/kite-flags-test.yaml";
  {
    std::ofstream out(path);
    out << "data-dir: /from/file\nn: 9\ntls-san:\n  - one\n  - two\nevery: 30s\n";
  }
  Opts o;
  auto f = Declare(o);
  ASSERT_TRUE(ParseArgs(f, {"--config", path, "--n=3"}).ok());
  EXPECT_EQ(o.dir, "/from/file");
  EXPECT_EQ(o.n, 3);
  EXPECT_EQ(o.every_ms, 30'000);
  EXPECT_EQ(o.sans, (std::vector<std::string>{"one", "two"}));
  {
    std::ofstream out(path);
    out << "bogus: 1\n";
  }
  Opts o2;
  auto f2 = Declare(o2);
  EXPECT_FALSE(ParseArgs(f2, {"--config=" + path}).ok());
  std::remove(path.c_str());
}

TEST(Flags, GivenTellsWhatTheUserSet) {
  std::string path = ::testing::TempDir() + "/kite-flags-given.yaml";
  {
    std::ofstream out(path);
    out << "every: 30s\n";
  }
  Opts o;
  auto f = Declare(o);
  f.Forward("kubelet-arg", {{"count", "n"}}, "k3s style");
  ASSERT_TRUE(ParseArgs(f, {"--config", path, "--on", "--kubelet-arg=count=2"}).ok());
  EXPECT_TRUE(f.Given("on"));
  EXPECT_TRUE(f.Given("every"));  // from the file
  EXPECT_TRUE(f.Given("n"));      // through --kubelet-arg
  EXPECT_FALSE(f.Given("data-dir"));
  EXPECT_FALSE(f.Given("tls-san"));
  std::remove(path.c_str());
}

TEST(Flags, DurationParsing) {
  EXPECT_EQ(*ParseDurationMs("300ms"), 300);
  EXPECT_EQ(*ParseDurationMs("2h"), 7'200'000);
  EXPECT_EQ(*ParseDurationMs("10"), 10'000);
  EXPECT_FALSE(ParseDurationMs("").ok());
  EXPECT_FALSE(ParseDurationMs("m").ok());
}

}  // namespace
}  // namespace kite
