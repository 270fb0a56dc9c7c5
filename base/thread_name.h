// Names the calling thread (as `top -H`, `perf --sort comm` and /proc/<pid>/task/*/comm show
// it), so the time of kite-server's many threads can be told apart. Linux keeps at most 15
// characters; longer names are cut.
#pragma once

#include <pthread.h>

#include <string>

namespace kite {

inline void SetThreadName(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace kite
