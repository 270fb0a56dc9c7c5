#include "server/apiserver/handlers/list_workers.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cerrno>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "base/log.h"
#include "base/thread_name.h"

namespace kite::apiserver {
namespace asio = boost::asio;

namespace {

// Linux keeps a niceness per thread: setpriority on the thread id changes this thread only.
void LowerThisThreadsPriority(int nice) {
#ifdef __linux__
  if (nice == 0) return;
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, tid);
  if (errno == 0 && ::setpriority(PRIO_PROCESS, tid, now + nice) != 0) {
    KITE_LOG(1) << "list workers: could not lower the thread's CPU priority";
  }
#else
  (void)nice;
#endif
}

}  // namespace

ListWorkers::ListWorkers(int threads, int nice) {
  work_.emplace(io_.get_executor());
  for (int i = 0; i < std::max(1, threads); ++i) {
    threads_.emplace_back([this, nice] {
      SetThreadName("list-worker");
      LowerThisThreadsPriority(nice);
      io_.run();
    });
  }
}

ListWorkers::~ListWorkers() { Stop(); }

void ListWorkers::Stop() {
  if (threads_.empty()) return;
  work_.reset();
  io_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

// Each operation is its own coroutine on the connection's executor; named locals throughout
// (g++ 12 destroys temporaries of a co_await expression twice, see base/https_server.cc).
asio::awaitable<void> ConnectionResponder::Send(int status, std::string content_type, std::string body, Headers headers) {
  auto op = inner_.Send(status, std::move(content_type), std::move(body), std::move(headers));
  auto spawned = asio::co_spawn(connection_, std::move(op), asio::use_awaitable);
  co_await std::move(spawned);
}

asio::awaitable<bool> ConnectionResponder::BeginStream(int status, std::string content_type, Headers headers) {
  auto op = inner_.BeginStream(status, std::move(content_type), std::move(headers));
  auto spawned = asio::co_spawn(connection_, std::move(op), asio::use_awaitable);
  co_return co_await std::move(spawned);
}

asio::awaitable<bool> ConnectionResponder::WriteChunk(std::string data) {
  auto op = inner_.WriteChunk(std::move(data));
  auto spawned = asio::co_spawn(connection_, std::move(op), asio::use_awaitable);
  co_return co_await std::move(spawned);
}

asio::awaitable<void> ConnectionResponder::EndStream() {
  auto op = inner_.EndStream();
  auto spawned = asio::co_spawn(connection_, std::move(op), asio::use_awaitable);
  co_await std::move(spawned);
}

}  // namespace kite::apiserver
