#include "base/log.h"

#include <unistd.h>

#include <cstring>

#include "base/civil_time.h"
#include "base/clock.h"

namespace kite::log {
namespace {
std::atomic<int> g_verbosity{0};
}

void SetVerbosity(int v) { g_verbosity.store(v, std::memory_order_relaxed); }
int Verbosity() { return g_verbosity.load(std::memory_order_relaxed); }

Line::Line(const char* file, int line, int level) {
  // klog-like prefix: I1123 11:22:33.123456 file.cc:42]
  const std::string stamp = FormatUtc(Clock::Real()->Now(), "I%m%d %H:%M:%S.%f ");
  const char* base = std::strrchr(file, '/');
  os_ << stamp << (base ? base + 1 : file) << ':' << line << "] ";
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
