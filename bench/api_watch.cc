// The watchers workload of kite-api-bench: `--watchers` watches of the pods of one namespace,
// each on its own HTTPS connection (HTTP/1.1 allows one streaming response per connection),
// all driven by asio coroutines on `--watch-threads` threads; then `--watch-events` pod creations
// in that namespace, one every `--watch-interval-ms` after the previous was acknowledged.
//
// Every watcher records when each event line reached it (its chunk was decoded on the client's
// thread). Figures: per delivery, from the moment the create was sent and from its 201 (events
// that arrive before the 201 count as 0 there); per event, until the last watcher had it. The run
// fails unless every watcher got every event exactly once.
#include <boost/json.hpp>

#include <atomic>
#include <cinttypes>
#include <map>
#include <thread>

#include "bench/api_bench.h"

namespace kite_api_bench {
namespace {

struct Delivery {
  int64_t seq;
  Clock::time_point at;
};

struct Watcher {
  explicit Watcher(asio::io_context& io) : strand(asio::make_strand(io)) {}
  asio::strand<asio::io_context::executor_type> strand;
  // Touched only on `strand`.
  TlsStream* stream = nullptr;
  bool stop = false;
  std::vector<Delivery> got;
  int64_t other_lines = 0;  // events of pods not written by this run, bookmarks, errors
  std::string error;
};

struct Shared {
  const Kubeconfig& kc;
  ssl::context& tls;
  tcp::endpoint ep;
  std::string target;
  std::string name_marker;  // "name":"wev<run>-
  std::atomic<int64_t> established{0}, failed{0}, delivered{0}, closed{0};
};

// Pulls complete lines out of `pending` and records the ones naming one of our pods.
void ConsumeLines(Shared& sh, Watcher& w, std::string& pending, Clock::time_point now) {
  size_t start = 0;
  for (;;) {
    size_t nl = pending.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(pending.data() + start, nl - start);
    start = nl + 1;
    auto at = line.find(sh.name_marker);
    if (at == std::string_view::npos || line.find(R"("type":"ADDED")") == std::string_view::npos) {
      ++w.other_lines;
      continue;
    }
    int64_t seq = 0;
    for (size_t i = at + sh.name_marker.size(); i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i)
      seq = seq * 10 + (line[i] - '0');
    w.got.push_back({seq, now});
    sh.delivered.fetch_add(1, std::memory_order_relaxed);
  }
  pending.erase(0, start);
}

asio::awaitable<void> Watch(Shared& sh, Watcher& w) {
  auto ex = co_await asio::this_coro::executor;
  TlsStream s(ex, sh.tls);
  kite::PrepareTlsStream(s, sh.kc.host);
  bool established = false;
  auto fail = [&](const std::string& what) {
    w.error = what;
    sh.failed.fetch_add(1);
  };
  beast::get_lowest_layer(s).expires_after(std::chrono::seconds(60));
  auto [cec] = co_await beast::get_lowest_layer(s).async_connect(sh.ep, asio::as_tuple(asio::use_awaitable));
  if (cec) {
    fail("connect: " + cec.message());
    co_return;
  }
  boost::system::error_code nec;
  beast::get_lowest_layer(s).socket().set_option(tcp::no_delay(true), nec);
  auto [hec] = co_await s.async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
  if (hec) {
    fail("handshake: " + hec.message());
    co_return;
  }
  http::request<http::empty_body> req{http::verb::get, sh.target, 11};
  req.set(http::field::host, sh.kc.host + ":" + sh.kc.port);
  req.set(http::field::user_agent, "kite-api-bench");
  req.set(http::field::accept, "application/json");
  auto [wec, wn] = co_await http::async_write(s, req, asio::as_tuple(asio::use_awaitable));
  if (wec) {
    fail("write: " + wec.message());
    co_return;
  }
  beast::flat_buffer buf;
  http::response_parser<http::empty_body> p;
  p.body_limit(boost::none);
  std::string pending;
  auto on_chunk = [&](std::uint64_t, beast::string_view body, boost::system::error_code&) -> std::size_t {
    pending.append(body.data(), body.size());
    ConsumeLines(sh, w, pending, Clock::now());
    return body.size();
  };
  p.on_chunk_body(on_chunk);  // by reference: lives in this frame
  auto [rec, rn] = co_await http::async_read_header(s, buf, p, asio::as_tuple(asio::use_awaitable));
  if (rec || p.get().result_int() != 200) {
    fail(rec ? "read header: " + rec.message() : "status " + std::to_string(p.get().result_int()));
    co_return;
  }
  beast::get_lowest_layer(s).expires_never();
  w.stream = &s;
  established = true;
  sh.established.fetch_add(1);
  while (!w.stop && !p.is_done()) {
    auto [ec, n] = co_await http::async_read_some(s, buf, p, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (!w.stop) w.error = "read: " + ec.message();
      break;
    }
  }
  if (p.is_done() && !w.stop) w.error = "the server ended the watch";
  w.stream = nullptr;
  if (established) sh.closed.fetch_add(1);
}

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace

bool RunWatchers(const Options& o, const Kubeconfig& kc) {
  auto tls = TlsContext(kc);
  HttpsConnection writer(kc, tls, "kite-api-bench");
  if (!EnsureNamespace(writer, o.watch_ns)) return false;
  const std::string base = "/api/v1/namespaces/" + o.watch_ns + "/pods";
  // The watches start at the current resourceVersion (of a list): no initial ADDED events.
  auto list = writer.Do(http::verb::get, base + "?limit=1");
  std::string rv;
  if (list.status == 200) {
    boost::system::error_code ec;
    auto v = boost::json::parse(list.body, ec);
    if (!ec && v.is_object()) {
      if (const auto* m = v.as_object().if_contains("metadata"); m && m->is_object())
        if (const auto* r = m->as_object().if_contains("resourceVersion"); r && r->is_string()) rv = std::string(r->as_string());
    }
  }
  if (rv.empty()) {
    std::fprintf(stderr, "watchers: no resourceVersion from list: %d %s\n", list.status, list.error.c_str());
    return false;
  }
  auto ep = kite::ResolveServer(kc);
  if (!ep.ok()) {
    std::fprintf(stderr, "watchers: %s\n", ep.status().message().c_str());
    return false;
  }
  const std::string run = RunId();
  Shared sh{kc, *tls, ep.value(), base + "?watch=true&resourceVersion=" + rv + "&timeoutSeconds=3600",
            "\"name\":\"wev" + run + "-"};

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int64_t i = 0; i < std::max<int64_t>(1, o.watch_threads); ++i) threads.emplace_back([&] { io.run(); });
  std::vector<std::unique_ptr<Watcher>> watchers;
  for (int64_t i = 0; i < o.watchers; ++i) watchers.push_back(std::make_unique<Watcher>(io));

  // Open the connections a batch at a time (a burst of 1,000 handshakes is not the workload).
  const auto t_connect = Clock::now();
  const int64_t batch = std::max<int64_t>(1, o.watch_connect_batch);
  bool all_up = true;
  for (int64_t i = 0; i < o.watchers; ++i) {
    Watcher& w = *watchers[static_cast<size_t>(i)];
    asio::co_spawn(w.strand, Watch(sh, w), asio::detached);
    if ((i + 1) % batch == 0 || i + 1 == o.watchers) {
      all_up = WaitFor([&] { return sh.established.load() + sh.failed.load() >= i + 1; }, std::chrono::seconds(60)) &&
               sh.failed.load() == 0;
      if (!all_up) break;
    }
  }
  const double connect_ms = Ms(Clock::now() - t_connect);
  const std::string rss_kb = ServerRssKb(o.server_pid);
  if (!all_up) std::fprintf(stderr, "watchers: only %" PRId64 " of %" PRId64 " watches established\n",
                            sh.established.load(), o.watchers);

  const double server_cpu0 = ProcessCpuMs(o.server_pid), client_cpu0 = SelfCpuMs();
  std::vector<Clock::time_point> sent(static_cast<size_t>(o.watch_events)), acked(sent.size());
  std::vector<bool> ok_write(sent.size(), false);
  int64_t write_errors = 0, writes = 0;
  for (int64_t i = 0; i < o.watch_events && all_up; ++i) {
    std::string name = "wev" + run + "-" + std::to_string(i);
    std::string body = PodJson(o, o.watch_ns, name, "writer", run);
    auto t0 = Clock::now();
    auto r = writer.Do(http::verb::post, base, body);
    auto t1 = Clock::now();
    if (r.status != 201) {
      if (write_errors++ == 0) std::fprintf(stderr, "watchers: create: %d %s %s\n", r.status, r.error.c_str(), r.body.c_str());
    } else {
      sent[static_cast<size_t>(i)] = t0;
      acked[static_cast<size_t>(i)] = t1;
      ok_write[static_cast<size_t>(i)] = true;
      ++writes;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(o.watch_interval_ms));
  }
  const int64_t expected = writes * o.watchers;
  bool complete = WaitFor([&] { return sh.delivered.load() >= expected; }, std::chrono::seconds(o.timeout_s));
  // CPU per event while writing and delivering (includes the idle pauses, which cost ~nothing).
  const double server_cpu1 = ProcessCpuMs(o.server_pid), client_cpu1 = SelfCpuMs();
  const double inv_events = 1.0 / static_cast<double>(std::max<int64_t>(1, writes));
  std::string cpu = " client_cpu_ms_per_event=" + Fmt((client_cpu1 - client_cpu0) * inv_events, 2);
  if (server_cpu0 >= 0 && server_cpu1 >= 0) cpu += " server_cpu_ms_per_event=" + Fmt((server_cpu1 - server_cpu0) * inv_events, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let duplicates show up
  for (auto& wp : watchers) {
    Watcher* w = wp.get();
    asio::post(w->strand, [w] {
      w->stop = true;
      if (w->stream) beast::get_lowest_layer(*w->stream).cancel();
    });
  }
  work.reset();
  for (auto& t : threads) t.join();

  std::vector<double> from_send, from_ack;
  std::vector<Clock::time_point> last(sent.size(), Clock::time_point::min());
  std::vector<int64_t> per_event(sent.size(), 0);
  int64_t duplicates = 0, unknown = 0, early = 0, complete_watchers = 0, other = 0, errors = 0;
  std::string first_error;
  for (auto& w : watchers) {
    other += w->other_lines;
    if (!w->error.empty() && errors++ == 0) first_error = w->error;
    std::vector<bool> seen(sent.size(), false);
    int64_t distinct = 0;
    for (const auto& d : w->got) {
      if (d.seq < 0 || d.seq >= static_cast<int64_t>(sent.size()) || !ok_write[static_cast<size_t>(d.seq)]) {
        ++unknown;
        continue;
      }
      auto s = static_cast<size_t>(d.seq);
      if (seen[s]) {
        ++duplicates;
        continue;
      }
      seen[s] = true;
      ++distinct;
      ++per_event[s];
      last[s] = std::max(last[s], d.at);
      from_send.push_back(Ms(d.at - sent[s]));
      double a = Ms(d.at - acked[s]);
      if (a < 0) {
        ++early;
        a = 0;
      }
      from_ack.push_back(a);
    }
    if (distinct == writes) ++complete_watchers;
  }
  std::vector<double> all;  // per event: send → the last watcher has it
  for (size_t s = 0; s < sent.size(); ++s)
    if (ok_write[s] && per_event[s] == o.watchers) all.push_back(Ms(last[s] - sent[s]));
  const int64_t got = static_cast<int64_t>(from_send.size());
  std::printf("watch target=%s watchers=%" PRId64 " established=%" PRId64 " threads=%" PRId64 " events=%" PRId64
              " write_errors=%" PRId64 " expected=%" PRId64 " delivered=%" PRId64 " duplicates=%" PRId64
              " unknown=%" PRId64 " complete_watchers=%" PRId64 " watcher_errors=%" PRId64 " connect_ms=%s"
              " p50_ms=%s p99_ms=%s max_ms=%s p50_from_ack_ms=%s p99_from_ack_ms=%s before_ack=%" PRId64
              " all_p50_ms=%s all_p99_ms=%s all_max_ms=%s server_rss_kb=%s%s\n",
              o.label.c_str(), o.watchers, sh.established.load(), std::max<int64_t>(1, o.watch_threads), writes,
              write_errors, expected, got, duplicates, unknown, complete_watchers, errors, Fmt(connect_ms, 1).c_str(),
              Fmt(Percentile(from_send, 0.5)).c_str(), Fmt(Percentile(from_send, 0.99)).c_str(),
              Fmt(Percentile(from_send, 1.0)).c_str(), Fmt(Percentile(from_ack, 0.5)).c_str(),
              Fmt(Percentile(from_ack, 0.99)).c_str(), early, Fmt(Percentile(all, 0.5)).c_str(),
              Fmt(Percentile(all, 0.99)).c_str(), Fmt(Percentile(all, 1.0)).c_str(),
              rss_kb.empty() ? "-" : rss_kb.c_str(), cpu.c_str());
  std::fflush(stdout);
  if (errors) std::fprintf(stderr, "watchers: %" PRId64 " watchers ended early, first: %s\n", errors, first_error.c_str());
  if (other) std::fprintf(stderr, "watchers: %" PRId64 " other event lines\n", other);
  if (!complete) std::fprintf(stderr, "watchers: %" PRId64 " of %" PRId64 " deliveries within %" PRId64 " s\n", got,
                              expected, o.timeout_s);
  return all_up && write_errors == 0 && writes == o.watch_events && got == expected && duplicates == 0 &&
         complete_watchers == o.watchers && errors == 0;
}

}  // namespace kite_api_bench
