// The watch fan-out workload of kite-etcd-bench: many watchers of one key over several streams,
// then a sequence of puts; reports delivery latency and checks every watcher got every event.
#include "bench/bench_common.h"

namespace kite_bench {
namespace {
// ---------------------------------------------------------------------------------------------
// Watch fan-out: many watchers of one key over a few streams, then a paced sequence of puts.

struct Delivery {
  int64_t watch_id;
  int64_t revision;
  Clock::time_point at;
};

struct WatchStream;
struct StreamTag {
  WatchStream* stream;
  enum Kind { kStart, kRead, kWrite, kFinish } kind;
};

struct WatchStream {
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<pb::WatchRequest, pb::WatchResponse>> rw;
  pb::WatchRequest req;
  pb::WatchResponse resp;
  grpc::Status finish_status;
  int to_create = 0;
  int writes = 0;
  std::atomic<int> created{0};
  std::atomic<int> canceled{0};
  std::vector<Delivery> deliveries;  // only the completion thread touches it until joined
  StreamTag start_tag{this, StreamTag::kStart};
  StreamTag read_tag{this, StreamTag::kRead};
  StreamTag write_tag{this, StreamTag::kWrite};
  StreamTag finish_tag{this, StreamTag::kFinish};
};

}  // namespace

bool RunWatch(const Options& o, Connections& conns) {
  const std::string key = o.prefix + "/watch/key";
  const int nstreams = static_cast<int>(std::max<int64_t>(1, o.watch_streams));
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<WatchStream>> streams;
  std::atomic<int64_t> delivered{0};
  std::atomic<int> finished{0};
  for (int i = 0; i < nstreams; ++i) {
    auto s = std::make_unique<WatchStream>();
    s->to_create = static_cast<int>(o.watchers / nstreams + (i < o.watchers % nstreams ? 1 : 0));
    s->deliveries.reserve(static_cast<size_t>(s->to_create * o.watch_events));
    streams.push_back(std::move(s));
  }
  auto send_create = [&](WatchStream* s) {
    s->req.Clear();
    s->req.mutable_create_request()->set_key(key);
    s->rw->Write(s->req, &s->write_tag);
    ++s->writes;
  };
  std::thread poller([&] {
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) {
      auto* t = static_cast<StreamTag*>(tag);
      WatchStream* s = t->stream;
      switch (t->kind) {
        case StreamTag::kStart:
          if (!ok) {
            s->rw->Finish(&s->finish_status, &s->finish_tag);
            break;
          }
          s->rw->Read(&s->resp, &s->read_tag);
          if (s->to_create > 0) send_create(s);
          break;
        case StreamTag::kWrite:
          if (ok && s->writes < s->to_create) send_create(s);
          break;
        case StreamTag::kRead: {
          if (!ok) {
            s->rw->Finish(&s->finish_status, &s->finish_tag);
            break;
          }
          auto now = Clock::now();
          if (s->resp.created()) s->created.fetch_add(1);
          if (s->resp.canceled()) s->canceled.fetch_add(1);
          for (const auto& ev : s->resp.events())
            s->deliveries.push_back({s->resp.watch_id(), ev.kv().mod_revision(), now});
          if (s->resp.events_size()) delivered.fetch_add(s->resp.events_size());
          s->rw->Read(&s->resp, &s->read_tag);
          break;
        }
        case StreamTag::kFinish:
          if (finished.fetch_add(1) + 1 == nstreams) cq.Shutdown();
          break;
      }
    }
  });
  for (int i = 0; i < nstreams; ++i) {
    auto* s = streams[static_cast<size_t>(i)].get();
    // Prepare, then start: the poller may see the start tag before an AsyncWatch() returned.
    s->rw = conns.watch(static_cast<size_t>(i))->PrepareAsyncWatch(&s->ctx, &cq);
    s->rw->StartCall(&s->start_tag);
  }

  auto wait_until = [](auto pred, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (!pred()) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  };
  auto t_create = Clock::now();
  bool all_created = wait_until(
      [&] {
        int n = 0;
        for (auto& s : streams) n += s->created.load();
        return n >= o.watchers;
      },
      std::chrono::milliseconds(o.rpc_timeout_ms));
  double create_ms = Ms(Clock::now() - t_create);
  if (!all_created) std::fprintf(stderr, "watch: not every watch was created in time\n");

  // The writer uses its own connection so its acks don't queue behind event deliveries.
  Connections writer(o.endpoint, 1);
  writer.WaitConnected(std::chrono::seconds(10));
  std::map<int64_t, std::pair<Clock::time_point, Clock::time_point>> sent;  // rev -> (send, ack)
  int64_t put_errors = 0;
  std::string value = Value(o.value_size, 7);
  for (int64_t i = 0; i < o.watch_events && all_created; ++i) {
    pb::PutRequest req;
    req.set_key(key);
    req.set_value(value);
    pb::PutResponse resp;
    grpc::ClientContext ctx;
    auto t0 = Clock::now();
    auto st = writer.kv(0)->Put(&ctx, req, &resp);
    auto t1 = Clock::now();
    if (!st.ok()) {
      ++put_errors;
      continue;
    }
    sent[resp.header().revision()] = {t0, t1};
    std::this_thread::sleep_for(std::chrono::milliseconds(o.watch_interval_ms));
  }
  const int64_t expected = o.watchers * static_cast<int64_t>(sent.size());
  wait_until([&] { return delivered.load() >= expected; }, std::chrono::seconds(10));
  auto t_end = Clock::now();
  // Allow duplicates to show up before counting.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (auto& s : streams) s->ctx.TryCancel();
  poller.join();

  std::vector<double> from_ack, from_send;
  // Per event: its first and last delivery to any watcher (how long the whole fan-out took).
  std::map<int64_t, std::pair<Clock::time_point, Clock::time_point>> span;
  int64_t early = 0, unknown = 0, duplicates = 0, complete_watchers = 0, canceled = 0;
  Clock::time_point last_delivery = t_end;
  for (auto& s : streams) {
    canceled += s->canceled.load();
    std::map<int64_t, std::set<int64_t>> per_watch;
    for (const auto& d : s->deliveries) {
      auto it = sent.find(d.revision);
      if (it == sent.end()) {
        ++unknown;
        continue;
      }
      if (!per_watch[d.watch_id].insert(d.revision).second) ++duplicates;
      double a = Ms(d.at - it->second.second);
      if (a < 0) {
        ++early;
        a = 0;
      }
      from_ack.push_back(a);
      auto [sp, fresh] = span.try_emplace(d.revision, d.at, d.at);
      if (!fresh) {
        sp->second.first = std::min(sp->second.first, d.at);
        sp->second.second = std::max(sp->second.second, d.at);
      }
      from_send.push_back(Ms(d.at - it->second.first));
    }
    for (auto& [id, revs] : per_watch)
      if (revs.size() == sent.size()) ++complete_watchers;
  }
  (void)last_delivery;
  int64_t got = static_cast<int64_t>(from_ack.size()) - duplicates;
  // The writer's own latency (send to acknowledgement): deliveries "from ack" are measured after it.
  std::vector<double> put_ms;
  for (const auto& [rev, t] : sent) put_ms.push_back(Ms(t.second - t.first));
  std::vector<double> first_ms, spread_ms;  // first delivery from send; last minus first
  for (const auto& [rev, t] : span) {
    first_ms.push_back(Ms(t.first - sent[rev].first));
    spread_ms.push_back(Ms(t.second - t.first));
  }
  std::printf("watch target=%s watchers=%" PRId64 " streams=%d events=%zu put_errors=%" PRId64
              " expected=%" PRId64 " delivered=%" PRId64 " duplicates=%" PRId64 " unknown=%" PRId64
              " complete_watchers=%" PRId64 " canceled=%" PRId64 " create_ms=%s p50_ms=%s p99_ms=%s"
              " max_ms=%s p50_from_send_ms=%s p99_from_send_ms=%s before_ack=%" PRId64
              " put_p50_ms=%s put_p99_ms=%s first_from_send_p50_ms=%s spread_p50_ms=%s\n",
              o.label.c_str(), o.watchers, nstreams, sent.size(), put_errors, expected, got, duplicates,
              unknown, complete_watchers, canceled, Fmt(create_ms).c_str(), Fmt(Percentile(from_ack, 0.5)).c_str(),
              Fmt(Percentile(from_ack, 0.99)).c_str(), Fmt(Percentile(from_ack, 1.0)).c_str(),
              Fmt(Percentile(from_send, 0.5)).c_str(), Fmt(Percentile(from_send, 0.99)).c_str(), early,
              Fmt(Percentile(put_ms, 0.5)).c_str(), Fmt(Percentile(put_ms, 0.99)).c_str(),
              Fmt(Percentile(first_ms, 0.5)).c_str(), Fmt(Percentile(spread_ms, 0.5)).c_str());
  std::fflush(stdout);
  return put_errors == 0 && got == expected && duplicates == 0 && complete_watchers == o.watchers;
}


}  // namespace kite_bench
