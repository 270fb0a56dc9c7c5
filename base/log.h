// Leveled logging to stderr. Level 0 is always printed (errors, start-up facts); -v N enables
// detail up to N. Thread-safe: one line is written with one call.
//
//   KITE_LOG(0) << "listening on " << addr;
//   KITE_LOG(2) << "txn ops=" << n;          // only with -v 2 or more
#pragma once

#include <atomic>
#include <sstream>

namespace kite::log {

void SetVerbosity(int v);
int Verbosity();

class Line {
 public:
  Line(const char* file, int line, int level);
  ~Line();
  template <typename T>
  Line& operator<<(const T& v) {
    os_ << v;
    return *this;
  }

 private:
  std::ostringstream os_;
};

}  // namespace kite::log

#define KITE_LOG(level) \
  if ((level) > ::kite::log::Verbosity()) {} else ::kite::log::Line(__FILE__, __LINE__, (level))
