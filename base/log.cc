#include "base/log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace kite::log {
namespace {
std::atomic<int> g_verbosity{0};
}

void SetVerbosity(int v) { g_verbosity.store(v, std::memory_order_relaxed); }
int Verbosity() { return g_verbosity.load(std::memory_order_relaxed); }

Line::Line(const char* file, int line, int level) {
  // klog-like prefix: I1123 11:22:33.123456 file.cc:42]
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "I%02d%02d %02d:%02d:%02d.%06lld ", tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us));
  const char* base = std::strrchr(file, '/');
  os_ << buf << (base ? base + 1 : file) << ':' << line << "] ";
  (void)level;
}

Line::~Line() {
  os_ << '\n';
  std::string s = os_.str();
  // One write(2) per line keeps lines from different threads whole.
  ssize_t ignored = ::write(STDERR_FILENO, s.data(), s.size());
  (void)ignored;
}

}  // namespace kite::log
