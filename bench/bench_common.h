// Shared pieces of kite-etcd-bench: options, small helpers and the connection pool, used by the
// workloads in etcd_bench.cc (KV) and watch_fanout.cc (watch fan-out).
#pragma once

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/flags.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace kite_bench {

namespace pb = etcdserverpb;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string endpoint = "127.0.0.1:2379";
  std::string label = "server";
  std::string mode = "all";
  std::string prefix = "/bench";
  std::string put_clients = "1,16,256";
  int64_t duration_ms = 5000;
  int64_t max_conns = 8;
  int64_t cq_threads = 1;
  int64_t key_space = 10000;
  int64_t value_size = 256;
  int64_t get_clients = 16;
  int64_t list_keys = 10000;
  int64_t list_calls = 30;
  int64_t watchers = 1000;
  int64_t watch_streams = 10;
  int64_t watch_events = 100;
  int64_t watch_interval_ms = 10;
  int64_t server_pid = 0;
  int64_t db_updates = 1000000;
  int64_t db_keys = 1000;
  int64_t db_clients = 64;
  int64_t compact_interval_ms = 0;  // 0: the bench never compacts; the server must
  int64_t compact_retain = 10000;
  int64_t settle_ms = 0;
  std::string data_dir;
  int64_t rpc_timeout_ms = 30000;
};

inline std::string Fmt(double v, int prec = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

inline double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t idx = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<long>(idx), v.end());
  return v[idx];
}

inline double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

inline std::string KeyName(const std::string& prefix, int64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08" PRId64, i);
  return prefix + buf;
}

// The end of the key range that holds every key starting with `prefix` (etcd's prefix rule).
inline std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    auto& c = prefix.back();
    if (static_cast<unsigned char>(c) < 0xff) {
      ++c;
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');
}

inline std::string Value(int64_t size, uint64_t seed) {
  std::string v(static_cast<size_t>(size), 'x');
  std::mt19937_64 rng(seed);
  for (auto& ch : v) ch = static_cast<char>('a' + rng() % 26);
  return v;
}

// A connection pool: separate HTTP/2 connections (gRPC otherwise shares one subchannel between
// channels with equal arguments).
class Connections {
 public:
  Connections(const std::string& endpoint, int n) {
    for (int i = 0; i < n; ++i) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetMaxReceiveMessageSize(-1);
      args.SetInt("kite.bench.conn", i);  // makes each channel distinct
      auto ch = grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
      channels_.push_back(ch);
      kv_.push_back(pb::KV::NewStub(ch));
      watch_.push_back(pb::Watch::NewStub(ch));
    }
  }
  bool WaitConnected(std::chrono::seconds timeout) {
    auto deadline = std::chrono::system_clock::now() + timeout;
    for (auto& ch : channels_)
      if (!ch->WaitForConnected(deadline)) return false;
    return true;
  }
  size_t size() const { return channels_.size(); }
  pb::KV::Stub* kv(size_t i) { return kv_[i % kv_.size()].get(); }
  pb::Watch::Stub* watch(size_t i) { return watch_[i % watch_.size()].get(); }

 private:
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<pb::KV::Stub>> kv_;
  std::vector<std::unique_ptr<pb::Watch::Stub>> watch_;
};


bool RunWatch(const Options& o, Connections& conns);

}  // namespace kite_bench
