#include "server/apiserver/handlers/watch_handler.h"

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>

#include "base/log.h"
#include "base/metrics.h"
#include "server/apiserver/handlers/stored_output.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/status.h"
#include "server/apiserver/storage/watch_transform.h"

namespace kite::apiserver {
namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

// Output is written this much at a time, and nothing more is encoded until the write has
// completed: a watcher whose client does not read holds one chunk (and its TLS record, which
// the kernel did not take) while the socket is full, however large the state or its objects.
// 4 KiB: 1,000 blocked watchers hold ~8 MiB of it, not ~32 (bench/run_watch_memory.sh).
constexpr size_t kChunkBytes = 4 * 1024;
// The initial state is read from the store this many keys at a time, all at one revision.
constexpr int64_t kPageKeys = 64;
// A watcher is cut off when more than kMaxUnread events of its resource (before selectors) wait
// for it while one of its writes has been blocked for kStall, or when events it has not read have
// left the watch cache (it could only get 410 later). Upstream's cacher buffers 10-1000 events
// per watcher (100 for a watch without an index) and then waits ~100 ms before terminating it;
// here unread events cost nothing (they are the cache's), so the bound is looser and the wait is
// for the write, which a reading client completes in far less than a second.
constexpr size_t kMaxUnread = 256;
constexpr auto kStall = std::chrono::seconds(1);

prometheus::Counter& TerminatedWatchers(const std::string& resource) {
  static auto& family = prometheus::BuildCounter()
                            .Name("apiserver_terminated_watchers_total")
                            .Help("Counter of watchers closed due to unresponsiveness broken by resource type.")
                            .Register(metrics::Default());
  return family.Add({{"resource", resource}});
}

// What the serving coroutine shares with the callbacks that run on its strand (the cache's
// wake-ups and the write watchdog); touched only on that strand. The callbacks hold it weakly.
struct WatchState {
  WatchState(asio::any_io_executor ex, WatchCache* c) : wake(ex), watchdog(ex), cache(c) {}
  asio::steady_timer wake;  // the coroutine waits on it for new events
  bool pending = false;     // a wake-up arrived while it was not waiting
  asio::steady_timer watchdog;
  bool watchdog_armed = false;

  WatchCache* cache;
  std::string prefix;      // the watch's storage prefix
  int64_t start = 0;       // the first revision the watch shows from the cache
  Clock::time_point deadline;
  std::string resource, remote;  // for the log and the metric

  // Unread events: those at or after `cursor` (the cache sequence number the coroutine reads
  // next) with the watch's prefix; `unread` counts them up to `scan`.
  uint64_t cursor = 0, scan = 0;
  size_t unread = 0;
  bool evicted = false;

  HttpsResponder* writing = nullptr;  // the responder while a write is in flight
  Clock::time_point write_started;
  bool cut_off = false;
};

void ArmWatchdog(const std::shared_ptr<WatchState>& s);

// While a write is in flight and has been blocked for kStall: ends the watch when its timeout
// has passed, and cuts the watcher off when it has fallen behind (see kMaxUnread).
void CheckWriter(const std::shared_ptr<WatchState>& s) {
  if (!s->writing || s->cut_off) return;
  const auto now = Clock::now();
  if (now - s->write_started >= kStall) {
    if (now >= s->deadline) {
      KITE_LOG(2) << "watch: " << s->resource << " watch from " << s->remote << " timed out during a blocked write";
      s->cut_off = true;
      s->writing->Abort();
      return;
    }
    s->unread += s->cache->CountUnread(s->cursor, &s->scan, s->prefix, s->start, &s->evicted);
    if (s->unread > kMaxUnread || s->evicted) {
      s->cut_off = true;
      TerminatedWatchers(s->resource).Increment();
      KITE_LOG(1) << "Forcing " << s->resource << " watcher close due to unresponsiveness: " << s->remote
                  << ": a write blocked for "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(now - s->write_started).count()
                  << " ms, " << s->unread << " events unread" << (s->evicted ? ", some already gone from the cache" : "");
      s->writing->Abort();
      return;
    }
  }
  ArmWatchdog(s);
}

void ArmWatchdog(const std::shared_ptr<WatchState>& s) {
  if (s->watchdog_armed) return;
  s->watchdog_armed = true;
  const auto now = Clock::now();
  auto at = s->write_started + kStall;
  if (at <= now) at = now + kStall;
  s->watchdog.expires_at(at);
  std::weak_ptr<WatchState> weak = s;
  s->watchdog.async_wait([weak](boost::system::error_code ec) {
    auto s = weak.lock();
    if (!s) return;
    s->watchdog_armed = false;
    if (!ec) CheckWriter(s);
  });
}

// One watch request, start to end.
class WatchSession {
 public:
  WatchSession(HttpsRequest& req, HttpsResponder& res, datastore::Store* store, WatchCache* cache,
               const api::ResourceInfo& r, const std::string& ns, ListOptions opts, WatchFormat format)
      : req_(req), res_(res), store_(store), cache_(cache), r_(r), opts_(std::move(opts)), format_(std::move(format)),
        transform_(r_), writer_{r_, format_, transform_}, selection_(opts_, r_, transform_), prefix_(StoragePrefix(r, ns)) {
    end_ = prefix_;
    end_.back()++;
  }

  asio::awaitable<void> Run();
  // After an exception: a 500 Status, or an ERROR event when the stream has begun.
  asio::awaitable<void> Fail(const std::string& message);

 private:
  asio::awaitable<bool> Write(std::string data);
  // Writes whole chunks of `out` (all of it with `all`).
  asio::awaitable<bool> Flush(PendingOutput& out, bool all);
  asio::awaitable<bool> SendInitialState(datastore::RangeResponse page, int64_t revision);
  asio::awaitable<void> StreamEvents();
  std::string Bookmark(int64_t rv, bool initial_events_end) const;
  // Whether the watch starts with the current state as ADDED events.
  bool WantsInitialState() const;

  HttpsRequest& req_;
  HttpsResponder& res_;
  datastore::Store* store_;
  WatchCache* cache_;
  const api::ResourceInfo& r_;
  const ListOptions opts_;
  const WatchFormat format_;
  const WatchTransform transform_;
  EventWriter writer_;
  const Selection selection_;
  const std::string prefix_;
  std::string end_;
  std::shared_ptr<WatchState> state_;
  PendingOutput pending_;  // empty between writes; kept for its storage
  bool began_ = false;
  int64_t last_rv_ = 0;
};

bool WatchSession::WantsInitialState() const {
  if (opts_.send_initial_events) return true;
  // resourceVersion unset or "0": the state first, for compatibility, unless sendInitialEvents
  // says false (then changes from now on, as upstream).
  return (opts_.resource_version.empty() || opts_.resource_version == "0") && req_.Query("sendInitialEvents") != "false";
}

std::string WatchSession::Bookmark(int64_t rv, bool initial_events_end) const {
  json::object meta{{"resourceVersion", std::to_string(rv)}};
  if (initial_events_end) meta["annotations"] = json::object{{"k8s.io/initial-events-end", "true"}};
  json::object obj{{"kind", r_.kind}, {"apiVersion", r_.group_version()}, {"metadata", std::move(meta)}};
  return json::serialize(json::object{{"type", "BOOKMARK"}, {"object", std::move(obj)}}) + "\n";
}

asio::awaitable<bool> WatchSession::Write(std::string data) {
  if (state_->cut_off) co_return false;
  if (data.empty()) co_return true;
  state_->writing = &res_;
  state_->write_started = Clock::now();
  ArmWatchdog(state_);
  struct Done {
    WatchState* s;
    ~Done() { s->writing = nullptr; }
  } done{state_.get()};
  bool ok = co_await res_.WriteChunk(std::move(data));
  co_return ok && !state_->cut_off;
}

asio::awaitable<bool> WatchSession::Flush(PendingOutput& out, bool all) {
  while (out.size() >= kChunkBytes || (all && out.size() > 0)) {
    std::string chunk = out.Take(kChunkBytes);  // named: see the g++ 12 note in base/https_server.cc
    bool ok = co_await Write(std::move(chunk));
    if (!ok) co_return false;
  }
  co_return true;
}

asio::awaitable<void> WatchSession::Run() {
  auto ex = co_await asio::this_coro::executor;
  const bool initial = WantsInitialState();
  int64_t start = 0;
  datastore::RangeResponse first_page;
  if (initial) {
    // The first page fixes the revision that every later page (and then the cache) reads at.
    datastore::RangeRequest q;
    q.key = prefix_;
    q.range_end = end_;
    q.limit = kPageKeys;
    auto page = store_->Range(q);
    if (!page.ok()) {
      std::string body = StatusJson(InternalError(page.status().message()));
      co_await res_.Send(500, "application/json", std::move(body));
      co_return;
    }
    first_page = std::move(page.value());
    start = first_page.revision + 1;
  } else {
    const std::string& rv_text = opts_.resource_version;
    char* stop = nullptr;
    long long rv = std::strtoll(rv_text.c_str(), &stop, 10);
    if (*stop != '\0' || rv < 0) {
      std::string body = StatusJson(BadRequest("invalid resource version \"" + rv_text + "\""));
      co_await res_.Send(400, "application/json", std::move(body));
      co_return;
    }
    start = rv + 1;
  }
  int64_t timeout_s = 1800;  // upstream picks 30-60 min when the client gives none
  if (opts_.timeout_seconds) timeout_s = std::clamp<int64_t>(*opts_.timeout_seconds, 0, int64_t{10} * 365 * 86400);

  state_ = std::make_shared<WatchState>(ex, cache_);
  state_->prefix = prefix_;
  state_->start = start;
  state_->deadline = Clock::now() + std::chrono::seconds(timeout_s);
  state_->resource = QualifiedResource(r_);
  state_->remote = req_.remote;
  std::weak_ptr<WatchState> weak = state_;
  auto subscription = cache_->Subscribe([weak] {
    if (auto s = weak.lock()) {
      asio::post(s->wake.get_executor(), [s] {
        s->pending = true;
        s->wake.cancel();
        CheckWriter(s);  // events arrived: is a blocked write holding them up?
      });
    }
  });
  // Positioned before anything is written, so the events from `start` on are counted as
  // unread while the initial state is still being sent.
  std::vector<std::shared_ptr<const CachedEvent>> none;
  int64_t oldest = 0;
  const bool in_cache = cache_->Read(start, &state_->cursor, 0, &none, &oldest);
  state_->scan = state_->cursor;

  began_ = true;
  if (!co_await res_.BeginStream(200, "application/json")) co_return;
  if (!in_cache) {
    Status gone = Status::Api(410, "Expired", "too old resource version: " + std::to_string(start - 1) + " (" +
                                                  std::to_string(oldest) + ")");
    std::string line = ErrorLine(gone);
    co_await Write(std::move(line));
  } else {
    bool ok = true;
    if (initial) ok = co_await SendInitialState(std::move(first_page), start - 1);
    last_rv_ = start - 1;
    if (ok && opts_.send_initial_events && opts_.allow_bookmarks) {
      std::string line = Bookmark(start - 1, true);
      ok = co_await Write(std::move(line));
    }
    if (ok) co_await StreamEvents();
  }
  subscription.reset();
  if (!state_->cut_off) co_await res_.EndStream();
}

asio::awaitable<bool> WatchSession::SendInitialState(datastore::RangeResponse page, int64_t revision) {
  PendingOutput& out = pending_;
  for (;;) {
    for (auto& kv : page.kvs) {
      if (!kv.value) continue;
      if (selection_.Matches(kv.key, *kv.value, nullptr)) {
        if (auto shown = ShowStored(*kv.value, kv.mod_revision)) writer_.Line("ADDED", kv.value, *shown, &out);
      }
      kv.value.reset();  // the output holds what it needs: a blocked watcher pins no more versions
      bool ok = co_await Flush(out, false);
      if (!ok) co_return false;
    }
    if (!page.more || page.kvs.empty()) break;
    datastore::RangeRequest q;
    q.key = page.kvs.back().key + std::string(1, '\0');
    q.range_end = end_;
    q.limit = kPageKeys;
    q.revision = revision;
    auto next = store_->Range(q);
    if (!next.ok()) {
      // Compacted past the revision while a slow client took the state in: it relists.
      Status e = next.status().code() == Code::kOutOfRange
                       ? Status::Api(410, "Expired", "too old resource version: " + std::to_string(revision))
                       : InternalError(next.status().message());
      bool flushed = co_await Flush(out, true);
      std::string line = ErrorLine(e);
      if (flushed) co_await Write(std::move(line));
      co_return false;
    }
    page = std::move(next.value());
  }
  bool ok = co_await Flush(out, true);
  co_return ok;
}

asio::awaitable<void> WatchSession::StreamEvents() {
  WatchState& s = *state_;
  auto next_bookmark = Clock::now() + std::chrono::seconds(60);
  auto bookmark = [&] { return Bookmark(std::max(last_rv_, cache_->revision()), false); };
  std::vector<std::shared_ptr<const CachedEvent>> batch;
  for (;;) {
    batch.clear();
    int64_t oldest = 0;
    const uint64_t first_seq = s.cursor;
    if (!cache_->Read(s.start, &s.cursor, 256, &batch, &oldest)) {
      Status gone = Status::Api(410, "Expired", "too old resource version: " + std::to_string(s.start - 1) + " (" +
                                                    std::to_string(oldest) + ")");
      std::string line = ErrorLine(gone);
      co_await Write(std::move(line));
      co_return;
    }
    if (!batch.empty()) {
      PendingOutput& out = pending_;
      for (size_t i = 0; i < batch.size(); ++i) {
        const CachedEvent& e = *batch[i];
        // An event the cache had not taken in when the initial state was read may be older.
        if (e.revision < s.start || e.key.compare(0, prefix_.size(), prefix_) != 0) continue;
        if (first_seq + i < s.scan && s.unread > 0) --s.unread;  // it was counted as unread
        last_rv_ = e.revision;
        const char* type = nullptr;
        if (e.deleted) {
          if (selection_.Matches(e, false)) type = "DELETED";
        } else {
          bool is = selection_.Matches(e, false);
          bool was = selection_.Matches(e, true);
          if (is && was) type = "MODIFIED";
          else if (is) type = "ADDED";
          else if (was) type = "DELETED";  // left the selection
        }
        if (type) writer_.Line(type, std::shared_ptr<const std::string>(batch[i], &e.object_json), &out);
        bool ok = co_await Flush(out, false);
        if (!ok) co_return;
      }
      if (s.scan < s.cursor) {
        s.scan = s.cursor;
        s.unread = 0;
      }
      bool ok = co_await Flush(out, true);
      if (!ok) co_return;
      continue;
    }
    const auto now = Clock::now();
    if (now >= s.deadline) {
      std::string line = opts_.allow_bookmarks ? bookmark() : std::string();
      co_await Write(std::move(line));
      co_return;
    }
    if (opts_.allow_bookmarks && now >= next_bookmark) {
      next_bookmark = now + std::chrono::seconds(60);
      std::string line = bookmark();
      bool ok = co_await Write(std::move(line));
      if (!ok) co_return;
    }
    if (s.pending) {
      s.pending = false;
      continue;
    }
    s.wake.expires_at(opts_.allow_bookmarks ? std::min(s.deadline, next_bookmark) : s.deadline);
    auto [ec] = co_await s.wake.async_wait(asio::as_tuple(asio::use_awaitable));
    s.pending = false;
    if (!ec && Clock::now() >= s.deadline) {  // the timer ran out: the timeout
      std::string line = opts_.allow_bookmarks ? bookmark() : std::string();
      co_await Write(std::move(line));
      co_return;
    }
  }
}

asio::awaitable<void> WatchSession::Fail(const std::string& message) {
  Status e = InternalError(message);
  if (!began_) {
    std::string body = StatusJson(e);
    co_await res_.Send(500, "application/json", std::move(body));
    co_return;
  }
  std::string line = ErrorLine(e);
  bool ok = co_await res_.WriteChunk(std::move(line));
  if (ok) co_await res_.EndStream();
}

}  // namespace

asio::awaitable<void> ServeWatch(HttpsRequest& req, HttpsResponder& res, datastore::Store* store, WatchCache* cache,
                                 const api::ResourceInfo& r, const std::string& ns, ListOptions opts,
                                 WatchFormat format) {
  // Nothing thrown while serving a watch (std::bad_alloc included) leaves this function: the
  // request ends with a 500 Status, or an ERROR event once the stream has begun, and is logged.
  std::exception_ptr failure;
  std::optional<WatchSession> session;
  try {
    session.emplace(req, res, store, cache, r, ns, std::move(opts), std::move(format));
    co_await session->Run();
  } catch (...) {
    failure = std::current_exception();
  }
  if (!failure) co_return;
  try {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    failure = nullptr;
    KITE_LOG(0) << "watch: " << req.method << " " << req.target << " failed: " << what;
    if (session) {
      co_await session->Fail(what);
    } else {
      std::string body = StatusJson(InternalError(what));
      co_await res.Send(500, "application/json", std::move(body));
    }
  } catch (...) {
    // Out of memory even for the error answer: the connection closes without one.
  }
}

}  // namespace kite::apiserver
