// SlowStartBatch (upstream's slowStartBatch): runs `count` calls in batches of 1, 2, 4, …
// (starting at `initial_batch`), and stops after the first batch in which a call failed, so a
// controller whose pods are all rejected (quota, admission) sends one request, not hundreds.
//
// Contract: `fn(i)` is called for i = 0, 1, … in order, on the calling thread; the calls of
// one batch all run even when one of them fails. Returns how many calls succeeded; *first_error
// (when given) gets the first failure, or stays OK. The calls never made are count - returned
// - failures; callers lower their expectations by count - successes.
#pragma once

#include <algorithm>
#include <functional>

#include "base/status.h"

namespace kite::client {

inline int SlowStartBatch(int count, int initial_batch, const std::function<Status(int index)>& fn,
                          Status* first_error = nullptr) {
  int done = 0, succeeded = 0;
  for (int batch = std::max(1, initial_batch); done < count; batch *= 2) {
    const int end = std::min(count, done + batch);
    bool failed = false;
    for (; done < end; ++done) {
      Status s = fn(done);
      if (s.ok()) {
        ++succeeded;
        continue;
      }
      if (!failed && first_error && first_error->ok()) *first_error = s;
      failed = true;
    }
    if (failed) break;
  }
  return succeeded;
}

}  // namespace kite::client
