// Eventually(f): polls f every 5 ms until it is true or `timeout` passes (then gives f's last
// answer), for tests that wait on another thread (a watch, an informer, a worker) without a
// fixed sleep.
#pragma once

#include <chrono>
#include <thread>

namespace kite::testing {

template <typename F>
bool Eventually(F f, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return f();
}

}  // namespace kite::testing
