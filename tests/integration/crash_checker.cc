// crash_checker: after a restart, verifies what crash_loader's ack files promise.
//   1. every acknowledged write survived: each key's current value is >= the newest value
//      acknowledged for it (keys belong to one writer whose values only grow);
//   2. the store revision is >= the highest acknowledged revision;
//   3. history is whole: a watch over all keys from revision 2 delivers every revision
//      2..current exactly once (one contiguous group of events per revision, increasing), no
//      gaps, nothing above current; each acknowledged (key, value) appears at exactly its
//      acknowledged revision; per key, versions go 1, 2, 3, ... and restart at 1 after a delete.
//
// usage: crash_checker --endpoint HOST:PORT ACKFILE...
// Exit status 0 when everything holds; otherwise prints each violation (up to a limit) and 1.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace {

int g_errors = 0;

template <typename... A>
void Violation(const char* fmt, A... a) {
  if (++g_errors <= 30) {
    std::fprintf(stderr, "VIOLATION: ");
    std::fprintf(stderr, fmt, a...);
    std::fprintf(stderr, "\n");
  }
}

struct Ack {
  long long value;
  long long revision;
};

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--endpoint" && i + 1 < argc) endpoint = argv[++i];
    else files.push_back(a);
  }
  if (endpoint.empty() || files.empty()) {
    std::fprintf(stderr, "usage: crash_checker --endpoint HOST:PORT ACKFILE...\n");
    return 2;
  }

  // Newest acknowledged value per key, and every ack by revision.
  std::map<std::string, Ack> newest;
  std::map<long long, std::vector<std::pair<std::string, long long>>> acks_by_rev;
  long long acked = 0, max_rev = 0;
  for (const auto& f : files) {
    std::ifstream in(f);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", f.c_str());
      return 2;
    }
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string key;
      Ack a{};
      if (!(ls >> key >> a.value >> a.revision)) {
        Violation("malformed ack line in %s: '%s'", f.c_str(), line.c_str());
        continue;
      }
      ++acked;
      max_rev = std::max(max_rev, a.revision);
      acks_by_rev[a.revision].emplace_back(key, a.value);
      auto it = newest.find(key);
      if (it == newest.end() || a.value > it->second.value) newest[key] = a;
    }
  }
  std::printf("acks: %lld writes on %zu keys, highest acknowledged revision %lld\n", acked,
              newest.size(), max_rev);
  if (acked == 0) {
    Violation("no acknowledged writes at all: the load did not run");
  }

  auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  auto kv = etcdserverpb::KV::NewStub(channel);
  auto watch = etcdserverpb::Watch::NewStub(channel);
  auto Deadline = [](int s) { return std::chrono::system_clock::now() + std::chrono::seconds(s); };

  // 1 + 2: current values and revision, from one read of the whole prefix.
  etcdserverpb::RangeRequest rr;
  rr.set_key("crash/");
  rr.set_range_end("crash0");  // '/' + 1
  etcdserverpb::RangeResponse rresp;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline(30));
    grpc::Status st = kv->Range(&ctx, rr, &rresp);
    if (!st.ok()) {
      std::fprintf(stderr, "Range failed: %d %s\n", st.error_code(), st.error_message().c_str());
      return 1;
    }
  }
  const long long current = rresp.header().revision();
  std::printf("current revision %lld, %zu keys under crash/\n", current, static_cast<size_t>(rresp.kvs_size()));
  if (current < max_rev) Violation("current revision %lld < highest acknowledged revision %lld", current, max_rev);
  std::unordered_map<std::string, long long> have;
  for (const auto& kvp : rresp.kvs()) {
    try {
      have[kvp.key()] = std::stoll(kvp.value());
    } catch (...) {
      Violation("key %s has a non-numeric value '%s'", kvp.key().c_str(), kvp.value().c_str());
    }
  }
  for (const auto& [key, a] : newest) {
    auto it = have.find(key);
    if (it == have.end()) {
      Violation("acknowledged key %s (value %lld at revision %lld) is missing", key.c_str(), a.value, a.revision);
    } else if (it->second < a.value) {
      Violation("key %s has value %lld, older than the acknowledged %lld (revision %lld)", key.c_str(),
                it->second, a.value, a.revision);
    }
  }

  // 3: the whole history from revision 2 over every key.
  grpc::ClientContext wctx;
  wctx.set_deadline(Deadline(120));
  auto stream = watch->Watch(&wctx);
  etcdserverpb::WatchRequest wreq;
  auto* cr = wreq.mutable_create_request();
  cr->set_key(std::string(1, '\0'));
  cr->set_range_end(std::string(1, '\0'));
  cr->set_start_revision(2);
  if (!stream->Write(wreq)) {
    std::fprintf(stderr, "watch: cannot send the create request\n");
    return 1;
  }
  long long expect_rev = 2;  // the next revision that must appear
  long long last_rev = 1;
  std::unordered_map<std::string, long long> version_of;
  long long events = 0;
  bool created = false;
  etcdserverpb::WatchResponse wr;
  while (expect_rev <= current && stream->Read(&wr)) {
    if (wr.created()) created = true;
    if (wr.canceled()) {
      Violation("watch from revision 2 canceled (compact_revision %lld, reason '%s')",
                static_cast<long long>(wr.compact_revision()), wr.cancel_reason().c_str());
      break;
    }
    for (const auto& ev : wr.events()) {
      const long long rev = ev.kv().mod_revision();
      ++events;
      if (rev < last_rev) {
        Violation("revision went backwards: %lld after %lld", rev, last_rev);
      } else if (rev > last_rev) {
        // A new revision starts: it must be exactly the next one.
        if (rev != expect_rev) {
          Violation("revision gap or repeat: got %lld, expected %lld", rev, expect_rev);
        }
        last_rev = rev;
        expect_rev = rev + 1;
      }
      if (rev > current) Violation("event at revision %lld above the current revision %lld", rev, current);
      const std::string& key = ev.kv().key();
      long long& ver = version_of[key];  // 0 = absent
      if (ev.type() == mvccpb::Event::PUT) {
        if (ev.kv().version() != ver + 1) {
          Violation("key %s at revision %lld has version %lld, expected %lld", key.c_str(), rev,
                    static_cast<long long>(ev.kv().version()), ver + 1);
        }
        ver = ev.kv().version();
      } else {
        ver = 0;
      }
      auto a = acks_by_rev.find(rev);
      if (a != acks_by_rev.end()) {
        for (auto& [akey, aval] : a->second) {
          if (akey == key) {
            if (ev.type() != mvccpb::Event::PUT || ev.kv().value() != std::to_string(aval)) {
              Violation("revision %lld: key %s holds '%s', acknowledged value was %lld", rev, key.c_str(),
                        ev.kv().value().c_str(), aval);
            }
            aval = -1;  // seen
          }
        }
      }
    }
  }
  wctx.TryCancel();
  if (!created) Violation("the watch was never confirmed as created");
  if (expect_rev <= current) {
    Violation("history ended early: revisions %lld..%lld never arrived", expect_rev, current);
  }
  for (const auto& [rev, list] : acks_by_rev) {
    for (const auto& [key, val] : list) {
      if (val != -1) Violation("acknowledged write %s=%lld at revision %lld not found in history", key.c_str(), val, rev);
    }
  }
  std::printf("history: %lld events over revisions 2..%lld\n", events, last_rev);
  if (g_errors > 0) {
    std::fprintf(stderr, "%d violation(s)\n", g_errors);
    return 1;
  }
  std::printf("OK\n");
  return 0;
}
