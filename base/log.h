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

// A one-pass for loop (not if/else) so the macro is safe inside an unbraced if.
#define KITE_LOG(level)                                                                  \
  for (bool kite_log_on = (level) <= ::kite::log::Verbosity(); kite_log_on; kite_log_on = false) \
  ::kite::log::Line(__FILE__, __LINE__, (level))
