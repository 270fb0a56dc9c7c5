// crash_loader: write load for the crash-safety test. N client threads each Put their own keys
// with strictly increasing values and append every *acknowledged* write to an ack file as
//   <key> <value> <revision>\n
// with one write(2) per line, so a line is in the file as soon as the server's OK arrived
// (the server is killed, not this process). A thread stops at its first failed Put: its
// outcome is unknown, and the next cycle (--cycle) starts above every value used before.
//
// usage: crash_loader --endpoint HOST:PORT --acks FILE --cycle N
//                     [--threads 32] [--keys-per-thread 4] [--max-puts 400] [--seconds 60]
// Exit status 0; prints "acked=<n> failed_threads=<m>" to stdout.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace {

struct Options {
  std::string endpoint;
  std::string acks;
  long cycle = -1;
  int threads = 32;
  int keys_per_thread = 4;
  long max_puts = 400;  // per thread and cycle; bounds the revisions a cycle creates
  long seconds = 60;
};

[[noreturn]] void Usage(const char* msg) {
  std::fprintf(stderr, "crash_loader: %s\n", msg);
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) Usage(("missing value for " + a).c_str());
    std::string v = argv[++i];
    if (a == "--endpoint") o.endpoint = v;
    else if (a == "--acks") o.acks = v;
    else if (a == "--cycle") o.cycle = std::stol(v);
    else if (a == "--threads") o.threads = std::stoi(v);
    else if (a == "--keys-per-thread") o.keys_per_thread = std::stoi(v);
    else if (a == "--max-puts") o.max_puts = std::stol(v);
    else if (a == "--seconds") o.seconds = std::stol(v);
    else Usage(("unknown flag " + a).c_str());
  }
  if (o.endpoint.empty() || o.acks.empty() || o.cycle < 0) Usage("need --endpoint, --acks, --cycle");
  if (o.threads < 1 || o.keys_per_thread < 1 || o.max_puts < 1) Usage("bad sizes");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = Parse(argc, argv);
  const int fd = ::open(opt.acks.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) {
    std::perror("open acks");
    return 2;
  }
  // A few channels so that the load does not serialise on one HTTP/2 connection.
  constexpr int kChannels = 4;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < kChannels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one connection per channel
    channels.push_back(grpc::CreateCustomChannel(opt.endpoint, grpc::InsecureChannelCredentials(), args));
  }

  std::atomic<long> acked{0};
  std::atomic<int> failed_threads{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(opt.seconds);
  // Values: cycle * 10^9 + sequence, so that every cycle writes above all earlier ones.
  const long base = opt.cycle * 1'000'000'000L;

  std::vector<std::thread> workers;
  for (int t = 0; t < opt.threads; ++t) {
    workers.emplace_back([&, t] {
      auto stub = etcdserverpb::KV::NewStub(channels[t % kChannels]);
      char name[64];
      for (long seq = 1; seq <= opt.max_puts; ++seq) {
        if (std::chrono::steady_clock::now() > deadline) return;
        std::snprintf(name, sizeof name, "crash/t%03d/k%d", t, static_cast<int>(seq % opt.keys_per_thread));
        const std::string value = std::to_string(base + seq);
        etcdserverpb::PutRequest req;
        req.set_key(name);
        req.set_value(value);
        etcdserverpb::PutResponse resp;
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        grpc::Status st = stub->Put(&ctx, req, &resp);
        if (!st.ok()) {
          failed_threads.fetch_add(1);
          return;
        }
        std::string line = std::string(name) + " " + value + " " + std::to_string(resp.header().revision()) + "\n";
        if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
          std::perror("write acks");
          std::_Exit(2);
        }
        acked.fetch_add(1);
      }
    });
  }
  for (auto& w : workers) w.join();
  ::close(fd);
  std::printf("acked=%ld failed_threads=%d\n", acked.load(), failed_threads.load());
  return 0;
}
