#include "base/memory_trim.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "base/log.h"

namespace kite {

namespace {

class TrimmerThread : public MemoryTrimmer {
 public:
  explicit TrimmerThread(std::chrono::seconds interval) : interval_(interval), thread_([this] { Run(); }) {}
  ~TrimmerThread() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
#if defined(__GLIBC__)
      malloc_trim(0);
#endif
    }
  }

  const std::chrono::seconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the members it reads
};

}  // namespace

std::unique_ptr<MemoryTrimmer> MemoryTrimmer::Start() {
  long seconds = 10;
  if (const char* env = std::getenv("KITE_MALLOC_TRIM_INTERVAL_S")) {
    char* end = nullptr;
    seconds = std::strtol(env, &end, 10);
    if (end == env || *end != '\0' || seconds < 0) {
      KITE_LOG(0) << "ignoring KITE_MALLOC_TRIM_INTERVAL_S=" << env << " (want whole seconds, 0 disables)";
      seconds = 10;
    }
  }
#if !defined(__GLIBC__)
  seconds = 0;
#endif
  if (seconds == 0) return nullptr;
  return std::make_unique<TrimmerThread>(std::chrono::seconds(seconds));
}

}  // namespace kite
