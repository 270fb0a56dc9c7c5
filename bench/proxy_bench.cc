// kite-proxy-bench: the service proxy's sync times against the real iptables of the network
// namespace it runs in (bench/run_proxy_sync.sh makes a private one; never run it on a host's
// own tables). Services and EndpointSlices come from the in-memory fake API, so the figures are
// the proxy's own work (rules, iptables-restore), not an API server's.
//
//   kite-proxy-bench --services 10000 --endpoints 10 [--mode iptables|nftables] [--backend nft|legacy]
//                    [--changes 100]
//
// Prints one line per figure, "key value" (seconds): full_first, full_first_cpu, full_steady, full_cpu, partial_p50,
// partial_p99, partial_cpu_p50 (the proxy and its tools), partial_self_cpu_p50 (the proxy alone), restart_full and
// restart_cpu (a new proxy's first sync over the table the first one left, as after an agent restart),
// readback_cpu (its listing of the chains already there), programming_p50, programming_p99, nat_rules.
#include <boost/json.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "agent/proxy/proxier.h"
#include "base/flags.h"
#include "base/log.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/informer.h"
#include "client/testing/fake_transport.h"

namespace {

namespace json = boost::json;
using namespace kite;
using Steady = std::chrono::steady_clock;

std::string Ip(uint32_t v) {
  return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 255) + "." + std::to_string((v >> 8) & 255) + "." +
         std::to_string(v & 255);
}

json::object Service(int i) {
  json::object o{{"apiVersion", "v1"}, {"kind", "Service"},
                 {"metadata", json::object{{"name", "svc-" + std::to_string(i)}, {"namespace", "bench"}}},
                 {"spec", json::object{{"type", "ClusterIP"},
                                       {"clusterIP", Ip((10u << 24) | (43u << 16) | static_cast<uint32_t>(i + 10))},
                                       {"ports", json::array{json::object{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}}}}}}};
  return o;
}

// Endpoint addresses: 10.42.x.y, `generation` shifts one of them (an endpoint change).
json::object Slice(int i, int endpoints, uint32_t first) {
  json::array eps;
  for (int e = 0; e < endpoints; ++e) {
    eps.push_back(json::object{{"addresses", json::array{json::string(Ip(first + static_cast<uint32_t>(e)))}},
                               {"conditions", json::object{{"ready", true}}},
                               {"nodeName", "bench"}});
  }
  return json::object{{"apiVersion", "discovery.k8s.io/v1"}, {"kind", "EndpointSlice"}, {"addressType", "IPv4"},
                      {"metadata", json::object{{"name", "svc-" + std::to_string(i) + "-abc"}, {"namespace", "bench"},
                                                {"labels", json::object{{"kubernetes.io/service-name", "svc-" + std::to_string(i)}}}}},
                      {"ports", json::array{json::object{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}},
                      {"endpoints", eps}};
}

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// CPU seconds of this process and its waited-for children (iptables-restore): on a shared,
// loaded machine the wall times include waiting for a core; this does not.
double SelfCpu() {
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  return static_cast<double>(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
         static_cast<double>(self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
}

double CpuNow() {
  rusage self{}, kids{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &kids);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(self.ru_utime) + tv(self.ru_stime) + tv(kids.ru_utime) + tv(kids.ru_stime);
}

double Secs(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  int64_t services = 1000, endpoints = 10, changes = 50, min_sync_ms = 1000, full_rounds = 3, wait_s = 30;
  std::string backend, mode = "iptables";
  FlagSet flags("kite-proxy-bench");
  flags.Int("services", &services, "Services");
  flags.Int("endpoints", &endpoints, "Endpoints per Service");
  flags.Int("changes", &changes, "Endpoint changes measured (partial syncs and programming latency)");
  flags.Int("min-sync-ms", &min_sync_ms, "The proxier's min sync period for the programming latency run");
  flags.Int("full-rounds", &full_rounds, "Steady full syncs measured after the first (their median is full_steady)");
  flags.Int("programming-wait-s", &wait_s,
            "How long one change may take to reach the rules; one that takes longer counts as this long (programming_timeouts)");
  flags.String("backend", &backend, "iptables mode's backend: nft or legacy (default: detect)");
  flags.String("mode", &mode, "The proxy mode: iptables or nftables");
  if (auto s = flags.Parse(argc, argv, ""); !s.ok()) {
    std::cerr << s.message() << "\n" << flags.Usage();
    return 2;
  }
  auto fake = std::make_shared<client::testing::FakeTransport>();
  const int n = static_cast<int>(services), per = static_cast<int>(endpoints);
  auto first_ip = [per](int i) { return (10u << 24) | (42u << 16) | static_cast<uint32_t>(i * (per + 1) + 2); };
  for (int i = 0; i < n; ++i) {
    fake->Add(Service(i));
    fake->Add(Slice(i, per, first_ip(i)));
  }
  client::Client c(fake);
  const api::ResourceInfo& slices_r = *api::FindResource("discovery.k8s.io", "v1", "endpointslices");

  // Every iptables-restore / nft -f that succeeded, with when it ended: "rule in place" for the
  // programming latency is the end of the restore that carried the change.
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<Steady::time_point, std::string>> restores;  // guarded by mu
  bool record = false;                                               // guarded by mu
  proxy::ProxyOptions po;
  po.node_name = "bench";
  po.mode = mode;
  po.healthz_bind_address = "";
  po.rules.cluster_cidr = "10.42.0.0/16";
  po.min_sync_period = std::chrono::milliseconds(min_sync_ms);
  if (backend == "nft") po.backend = proxy::Backend::kNft;
  if (backend == "legacy") po.backend = proxy::Backend::kLegacy;
  double exec_seconds = 0;  // guarded by mu: time inside iptables-restore / nft (the rest is ours)
  double readback_cpu = 0;  // guarded by mu: CPU of the listings of what is in the table (iptables-save, nft list)
  po.exec = [&](const std::vector<std::string>& a, const std::string& input) {
    const auto e0 = Steady::now();
    const bool listing = a[0].find("-save") != std::string::npos ||
                         (a[0] == "nft" && a.size() > 2 && a[1] == "list" && a[2] == "chains");
    const double cpu0 = listing ? CpuNow() : 0;
    if (const char* dump = std::getenv("KITE_PROXY_BENCH_DUMP"); dump && !input.empty()) {
      // The tool's input, to measure the tool alone (`nft -f FILE`, `iptables-restore < FILE`).
      static int n = 0;
      if (FILE* f = std::fopen((std::string(dump) + "." + std::to_string(n++)).c_str(), "w")) {
        std::fwrite(input.data(), 1, input.size(), f);
        std::fclose(f);
      }
    }
    auto r = proxy::RunCommand(a, input);
    {
      std::lock_guard<std::mutex> lock(mu);
      exec_seconds += Secs(Steady::now() - e0);
      if (listing) readback_cpu += CpuNow() - cpu0;
    }
    if (r.ok() && (a[0].find("-restore") != std::string::npos || a[0] == "nft")) {
      std::lock_guard<std::mutex> lock(mu);
      if (record) {
        restores.emplace_back(Steady::now(), input);
        cv.notify_all();
      }
    }
    return r;
  };

  // Phase 1: sync times, driven by hand.
  double full_first = 0, full_first_cpu = 0, full_steady = 0, nat_rules = 0, full_cpu = 0, full_exec = 0;
  std::vector<double> partial, partial_cpu, partial_self_cpu;
  {
    client::InformerFactory informers(&c);
    proxy::Proxier p(po);
    p.Init(informers);
    informers.Start();
    if (!informers.WaitForSync(std::chrono::minutes(5))) return 1;
    fake->WaitForIdle();
    std::cerr << "informers synced\n";
    auto t0 = Steady::now();
    const double first_cpu0 = CpuNow();
    if (Status s = p.Sync(true); !s.ok()) {
      std::cerr << "full sync: " << s.message() << "\n";
      return 1;
    }
    full_first = Secs(Steady::now() - t0);
    full_first_cpu = CpuNow() - first_cpu0;
    nat_rules = static_cast<double>(p.stats().last_nat_rules);
    std::vector<double> fulls;
    const double cpu0 = CpuNow();
    {
      std::lock_guard<std::mutex> lock(mu);
      exec_seconds = 0;
    }
    const int rounds = static_cast<int>(std::max<int64_t>(1, full_rounds));
    for (int r = 0; r < rounds; ++r) {
      t0 = Steady::now();
      if (Status s = p.Sync(true); !s.ok()) return 1;
      fulls.push_back(Secs(Steady::now() - t0));
    }
    full_steady = Pct(fulls, 0.5);
    full_cpu = (CpuNow() - cpu0) / rounds;
    {
      std::lock_guard<std::mutex> lock(mu);
      full_exec = exec_seconds / rounds;
    }
    std::cerr << "full syncs done: " << full_steady << " s, tool " << full_exec << " s\n";
    std::mt19937 rng(1);
    for (int k = 0; k < changes; ++k) {
      int i = static_cast<int>(rng() % static_cast<uint32_t>(n));
      // One endpoint replaced (the last address moves up by one).
      (void)c.Update(slices_r, "bench", Slice(i, per, first_ip(i) + static_cast<uint32_t>(k % 2)));
      fake->WaitForIdle();
      t0 = Steady::now();
      const double c0 = CpuNow(), self0 = SelfCpu();
      if (Status s = p.Sync(false); !s.ok()) {
        std::cerr << "partial sync: " << s.message() << "\n";
        return 1;
      }
      partial.push_back(Secs(Steady::now() - t0));
      partial_cpu.push_back(CpuNow() - c0);
      partial_self_cpu.push_back(SelfCpu() - self0);
    }
    informers.Stop();
  }
  // Phase 1's figures now: phase 2 can take long at scale.
  std::printf("services %d\nendpoints %d\nnat_rules %.0f\nfull_first %.4f\nfull_steady %.4f\n", n, per, nat_rules,
              full_first, full_steady);
  std::printf("full_cpu %.4f\nfull_first_cpu %.4f\nfull_exec %.4f\npartial_cpu_p50 %.4f\npartial_self_cpu_p50 %.4f\n", full_cpu,
              full_first_cpu, full_exec, Pct(partial_cpu, 0.5), Pct(partial_self_cpu, 0.5));
  std::printf("partial_p50 %.4f\npartial_p99 %.4f\n", Pct(partial, 0.5), Pct(partial, 0.99));
  std::fflush(stdout);

  // Phase 2: network programming latency through the real controller loop (work queue, min
  // sync period): the time from the API write to the end of the restore that carried it.
  std::vector<double> programming;
  int timeouts = 0;
  {
    client::InformerFactory informers(&c);
    client::ControllerRunner runner(&informers, 2);
    auto owned = std::make_unique<proxy::Proxier>(po);
    proxy::Proxier* p = owned.get();
    runner.Add(std::move(owned));
    // This proxy finds the table the first one left: its first sync is an agent restart's.
    {
      std::lock_guard<std::mutex> lock(mu);
      readback_cpu = 0;
    }
    const auto restart0 = Steady::now();
    const double restart_cpu0 = CpuNow();
    if (!runner.Start(std::chrono::minutes(5))) {
      std::cerr << "controller runner did not start\n";
      return 1;
    }
    auto deadline = Steady::now() + std::chrono::minutes(20);  // the first (full) sync at 10k can take minutes
    while (p->stats().syncs == 0 && Steady::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    {
      std::lock_guard<std::mutex> lock(mu);
      record = true;
      std::printf("restart_full %.4f\nrestart_cpu %.4f\nreadback_cpu %.4f\n", Secs(Steady::now() - restart0),
                  CpuNow() - restart_cpu0, readback_cpu);
      std::fflush(stdout);
    }
    std::mt19937 rng(2);
    for (int k = 0; k < changes; ++k) {
      int i = static_cast<int>(rng() % static_cast<uint32_t>(n));
      // A fresh address no other endpoint has: it shows up only in the restore carrying it.
      const uint32_t fresh = (10u << 24) | (200u << 16) | static_cast<uint32_t>(k + 1);
      json::object s = Slice(i, per, first_ip(i));
      s["endpoints"].as_array()[0].as_object()["addresses"] = json::array{json::string(Ip(fresh))};
      // iptables: "--to-destination IP:8080"; nftables: "dnat ip to IP:8080" or "IP . 8080".
      const std::string marker1 = Ip(fresh) + ":8080", marker2 = Ip(fresh) + " . 8080";
      auto carries = [&](const std::string& text) {
        return text.find(marker1) != std::string::npos || text.find(marker2) != std::string::npos;
      };
      const auto t0 = Steady::now();
      (void)c.Update(slices_r, "bench", s);
      std::unique_lock<std::mutex> lock(mu);
      bool seen = cv.wait_for(lock, std::chrono::seconds(wait_s), [&] {
        for (auto& [t, text] : restores) {
          if (t >= t0 && carries(text)) return true;
        }
        return false;
      });
      if (!seen) {
        std::cerr << "change " << k << " did not reach the rules within " << wait_s << " s\n";
        programming.push_back(static_cast<double>(wait_s));
        ++timeouts;
      }
      for (auto& [t, text] : restores) {
        if (t >= t0 && carries(text)) {
          programming.push_back(Secs(t - t0));
          break;
        }
      }
      restores.clear();
      lock.unlock();
      // Changes arrive spread out (random gaps up to 300 ms), not in lock-step with syncs.
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 300));
    }
    runner.Stop();
    informers.Stop();
  }

  std::printf("programming_p50 %.4f\nprogramming_p99 %.4f\nprogramming_timeouts %d\n", Pct(programming, 0.5),
              Pct(programming, 0.99), timeouts);
  return 0;
}
