// Gives freed heap memory back to the kernel every few seconds (glibc's malloc_trim).
//
// Why: glibc returns memory to the kernel only from the top of an arena, so after a burst (a
// big list serialised, thousands of objects decoded at once) the freed pages in the middle of
// the heap stay resident. A control plane on a 1 GiB edge device should not keep a burst's
// peak for the rest of its life; malloc_trim(0) walks the arenas and releases whole free pages
// (madvise), keeping the allocations that are live. It costs milliseconds per call at a few
// hundred MiB of heap, once per interval, on its own thread.
//
// The interval is KITE_MALLOC_TRIM_INTERVAL_S from the environment (default 10; 0 disables),
// an experiment knob for benchmarks rather than a user setting. A no-op without glibc.
#pragma once

#include <memory>

namespace kite {

class MemoryTrimmer {
 public:
  // Starts the thread (unless disabled); the destructor stops it.
  static std::unique_ptr<MemoryTrimmer> Start();
  virtual ~MemoryTrimmer() = default;
};

}  // namespace kite
