// The CRI log format and what `kubectl logs` options make of it: records, partial lines, both
// streams, timestamps, since, limitBytes, tailLines over strings and files, and rotation as a
// reader following a log sees it.
#include "agent/kubelet/logs/cri_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace kite::kubelet::logs {
namespace {

TEST(CriLogRecord, ParsesFullAndPartialRecordsOfBothStreams) {
  auto r = ParseCriLogRecord("2024-05-01T10:00:00.123456789Z stdout F hello world");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->time, "2024-05-01T10:00:00.123456789Z");
  EXPECT_EQ(r->time_ns, 1714557600123456789);
  EXPECT_EQ(r->stream, LogStream::kStdout);
  EXPECT_FALSE(r->partial);
  EXPECT_EQ(r->content, "hello world");
  r = ParseCriLogRecord("2024-05-01T12:00:00+02:00 stderr P part");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->time_ns, 1714557600000000000);
  EXPECT_EQ(r->stream, LogStream::kStderr);
  EXPECT_TRUE(r->partial);
  EXPECT_EQ(r->content, "part");
  r = ParseCriLogRecord("2024-05-01T10:00:00Z stdout F");  // an empty line
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->content, "");
}

TEST(CriLogRecord, RefusesMalformedRecords) {
  for (const char* bad : {"", "garbage", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z stdout",
                          "2024-05-01T10:00:00Z stdin F x", "2024-05-01T10:00:00Z stdout X x", "yesterday stdout F x"}) {
    EXPECT_FALSE(ParseCriLogRecord(bad).ok()) << bad;
  }
}

const char kLog[] =
    "2024-05-01T10:00:00.000000001Z stdout F one\n"
    "2024-05-01T10:00:01Z stderr F two\n"
    "2024-05-01T10:00:02Z stdout P thr\n"
    "2024-05-01T10:00:02Z stdout F ee\n"
    "not a record\n"
    "2024-05-01T10:00:03Z stdout F four\n";

std::string Format(const LogOptions& o, std::string_view data, size_t piece = 0) {
  LogFormatter f(o);
  std::string out;
  if (piece == 0) {
    f.Feed(data, &out);
  } else {
    for (size_t i = 0; i < data.size(); i += piece) f.Feed(data.substr(i, piece), &out);
  }
  return out;
}

TEST(LogFormatter, PrintsTheContentJoiningPartialLinesAndSkippingMalformedOnes) {
  EXPECT_EQ(Format({}, kLog), "one\ntwo\nthree\nfour\n");
  for (size_t piece : {1, 3, 7, 64}) EXPECT_EQ(Format({}, kLog, piece), "one\ntwo\nthree\nfour\n") << piece;
}

TEST(LogFormatter, HoldsAnIncompleteLastLine) {
  LogFormatter f({});
  std::string out;
  f.Feed("2024-05-01T10:00:00Z stdout F on", &out);
  EXPECT_EQ(out, "");
  f.Feed("e\n", &out);
  EXPECT_EQ(out, "one\n");
}

TEST(LogFormatter, Timestamps) {
  LogOptions o;
  o.timestamps = true;
  EXPECT_EQ(Format(o, "2024-05-01T10:00:00.5Z stdout F one\n"), "2024-05-01T10:00:00.5Z one\n");
}

TEST(LogFormatter, SinceDropsEarlierRecords) {
  LogOptions o;
  o.since_ns = 1714557602000000000;  // 10:00:02
  EXPECT_EQ(Format(o, kLog), "three\nfour\n");
}

TEST(LogFormatter, LimitBytesCutsTheOutputAndStops) {
  LogOptions o;
  o.limit_bytes = 6;
  LogFormatter f(o);
  std::string out;
  f.Feed(kLog, &out);
  EXPECT_EQ(out, "one\ntw");
  EXPECT_TRUE(f.done());
  f.Feed("2024-05-01T10:00:09Z stdout F more\n", &out);
  EXPECT_EQ(out, "one\ntw");
}

TEST(TailOffset, FindsTheLastLines) {
  const std::string data = "a\nbb\nccc\n";
  EXPECT_EQ(data.substr(TailOffset(data, 1)), "ccc\n");
  EXPECT_EQ(data.substr(TailOffset(data, 2)), "bb\nccc\n");
  EXPECT_EQ(data.substr(TailOffset(data, 3)), data);
  EXPECT_EQ(data.substr(TailOffset(data, 10)), data);
  EXPECT_EQ(TailOffset(data, 0), data.size());
  EXPECT_EQ(std::string("a\nb").substr(TailOffset("a\nb", 1)), "b");
  EXPECT_EQ(TailOffset("", 3), 0u);
}

TEST(TailOffset, TheFileVersionAgreesAcrossBlockBoundaries) {
  const std::string path = ::testing::TempDir() + "/tail_offset.log";
  std::string data;
  for (int i = 0; i < 20000; ++i) data += "2024-05-01T10:00:00Z stdout F line " + std::to_string(i) + "\n";
  std::ofstream(path) << data;
  int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  for (int64_t n : {0, 1, 2, 100, 5000, 19999, 20000, 30000}) {
    auto off = TailOffset(fd, static_cast<int64_t>(data.size()), n);
    ASSERT_TRUE(off.ok());
    EXPECT_EQ(static_cast<size_t>(*off), TailOffset(data, n)) << n;
  }
  ::close(fd);
  std::remove(path.c_str());
}

class MapQuery final : public QueryReader {
 public:
  std::map<std::string, std::string> m;
  std::optional<std::string> Get(const std::string& name) const override {
    auto it = m.find(name);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
};

TEST(ParseLogOptions, ReadsTheQueryAndRefusesBadValues) {
  MapQuery q;
  q.m = {{"follow", "true"}, {"timestamps", "1"}, {"tailLines", "5"}, {"limitBytes", "100"}, {"sinceSeconds", "10"}};
  auto o = ParseLogOptions(q, 1'000'000'000'000);
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->follow);
  EXPECT_TRUE(o->timestamps);
  EXPECT_FALSE(o->previous);
  EXPECT_EQ(o->tail_lines, 5);
  EXPECT_EQ(o->limit_bytes, 100);
  EXPECT_EQ(o->since_ns, 1'000'000'000'000 - 10'000'000'000);
  q.m = {{"sinceTime", "2024-05-01T10:00:02Z"}};
  o = ParseLogOptions(q, 0);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->since_ns, 1714557602000000000);
  for (auto bad : std::vector<std::map<std::string, std::string>>{
           {{"tailLines", "-1"}}, {{"tailLines", "x"}}, {{"limitBytes", "0"}}, {{"sinceSeconds", "0"}},
           {{"sinceTime", "yesterday"}}, {{"follow", "maybe"}}, {{"sinceSeconds", "1"}, {"sinceTime", "2024-05-01T10:00:02Z"}}}) {
    q.m = bad;
    EXPECT_FALSE(ParseLogOptions(q, 0).ok()) << bad.begin()->first;
  }
}

TEST(LogFile, ARotationIsSeenAndTheNewFileReadFromItsStart) {
  const std::string dir = ::testing::TempDir() + "/logfile_rotation";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/0.log";
  std::ofstream(path) << "old\n";
  auto f = LogFile::Open(path);
  ASSERT_TRUE(f.ok());
  std::string got;
  ASSERT_TRUE((*f)->Read(100, &got).ok());
  EXPECT_EQ(got, "old\n");
  EXPECT_FALSE((*f)->Rotated());
  std::filesystem::rename(path, path + ".20240501-100000");
  EXPECT_FALSE((*f)->Rotated());  // not reopened yet: nothing at the path
  std::ofstream(path) << "new\n";
  EXPECT_TRUE((*f)->Rotated());
  ASSERT_TRUE((*f)->ReopenAtPath().ok());
  got.clear();
  ASSERT_TRUE((*f)->Read(100, &got).ok());
  EXPECT_EQ(got, "new\n");
  EXPECT_TRUE(LogFile::Open(dir + "/missing.log").NotFound());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kite::kubelet::logs
