#include "client/controller.h"

#include <algorithm>
#include <system_error>

#include "base/log.h"
#include "base/thread_name.h"

namespace kite::client {

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

EventHandler EnqueueSelf(WorkQueue* queue, Expectations* expectations) {
  return EventHandler{[queue](const ObjectPtr& o) { queue->Add(Key(*o)); },
                      [queue](const ObjectPtr&, const ObjectPtr& o) { queue->Add(Key(*o)); },
                      [queue, expectations](const ObjectPtr& o) {
                        const std::string key = Key(*o);
                        if (expectations) expectations->Delete(key);
                        queue->Add(key);
                      }};
}

ControllerRunner::ControllerRunner(InformerFactory* informers, int threads, int max_threads,
                                   std::chrono::milliseconds idle)
    : informers_(informers),
      threads_(std::max(1, threads)),
      max_threads_(std::max(threads_, max_threads)),
      idle_timeout_(idle) {}

ControllerRunner::~ControllerRunner() { Stop(); }

void ControllerRunner::Add(std::unique_ptr<Controller> c) { controllers_.push_back(std::move(c)); }

bool ControllerRunner::Start(std::chrono::milliseconds sync_timeout) {
  for (auto& c : controllers_) {
    c->Init(*informers_);
    c->queue().SetNotify([this] {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++wakeups_;
      }
      cv_.notify_one();
    });
  }
  informers_->Start();
  if (!informers_->WaitForSync(sync_timeout)) {
    KITE_LOG(0) << "controllers: informer caches did not sync within " << sync_timeout.count() << " ms";
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return false;
  for (int i = 0; i < threads_; ++i) SpawnLocked();
  return true;
}

void ControllerRunner::SpawnLocked() {
  // Extra workers that ended (their last act under mu_ lists them) are joined here, so the pool
  // keeps no dead threads; they need no lock to finish returning.
  for (const auto& id : finished_) {
    auto it = std::find_if(pool_.begin(), pool_.end(), [&](const std::thread& t) { return t.get_id() == id; });
    if (it != pool_.end()) {
      it->join();
      pool_.erase(it);
    }
  }
  finished_.clear();
  try {
    pool_.emplace_back([this] {
      SetThreadName("ctrl-worker");
      Work();
    });
    ++live_;
  } catch (const std::system_error& e) {  // out of threads: the workers there are carry on
    KITE_LOG(0) << "controllers: cannot start a worker: " << e.what();
  }
}

void ControllerRunner::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  for (auto& c : controllers_) c->queue().ShutDown();
  cv_.notify_all();
  std::vector<std::thread> pool;
  {
    std::lock_guard<std::mutex> lock(mu_);  // no worker starts another once stopping_ is set
    pool.swap(pool_);
    finished_.clear();
  }
  for (auto& t : pool) t.join();
}

void ControllerRunner::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  auto last_work = std::chrono::steady_clock::now();
  while (!stopping_) {
    // Round-robin over the controllers for one ready key within each one's worker limit.
    Controller* picked = nullptr;
    std::optional<std::string> key;
    std::optional<WorkQueue::Clock::time_point> wake;
    const uint64_t seen = wakeups_;
    for (size_t i = 0; i < controllers_.size() && !picked; ++i) {
      Controller* c = controllers_[(next_ + i) % controllers_.size()].get();
      if (c->busy_ >= c->workers()) continue;
      key = c->queue().TryGet();
      if (key) {
        picked = c;
        next_ = (next_ + i + 1) % controllers_.size();
        break;
      }
      if (auto d = c->queue().NextDelayed(); d && (!wake || *d < *wake)) wake = *d;
    }
    if (!picked) {
      auto ready = [&] { return stopping_ || wakeups_ != seen; };
      const bool extra = live_ > threads_;
      if (extra && std::chrono::steady_clock::now() - last_work >= idle_timeout_) break;  // the burst is over
      ++idle_;
      if (extra) {
        const auto until = last_work + idle_timeout_;
        cv_.wait_until(lock, wake && *wake < until ? *wake : until, ready);
      } else if (wake) {
        cv_.wait_until(lock, *wake, ready);
      } else {
        cv_.wait(lock, ready);
      }
      --idle_;
      continue;
    }
    ++picked->busy_;
    // Nobody else free to take the next key: one more worker while the pool may grow.
    if (idle_ == 0 && live_ < max_threads_) SpawnLocked();
    lock.unlock();
    Status s;
    try {
      s = picked->Reconcile(*key);
    } catch (const std::exception& e) {
      // A bug in a controller must not take the server down; retry with back-off and say so.
      s = Status(Code::kInternal, std::string("exception: ") + e.what());
    }
    if (s.ok()) {
      picked->queue().Forget(*key);
    } else {
      KITE_LOG(1) << picked->name() << ": " << *key << ": " << s.message() << " (retrying)";
      picked->queue().AddRateLimited(*key);
    }
    picked->queue().Done(*key);
    lock.lock();
    last_work = std::chrono::steady_clock::now();
    --picked->busy_;
    // A controller at its worker limit may have keys waiting: let another thread look again.
    ++wakeups_;
    cv_.notify_one();
  }
  --live_;
  if (!stopping_) finished_.push_back(std::this_thread::get_id());  // Stop joins the rest
}

}  // namespace kite::client
