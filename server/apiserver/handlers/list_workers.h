// ListWorkers: the threads where wide LISTs are prepared (apiserver.cc routes a LIST there when
// it costs more than one seat, filters/inflight.h), so that a burst of big LISTs holds neither
// the io threads every other request, TLS handshake and accept needs, nor their share of the
// CPU: the workers run at a lower CPU priority (nice +10 on each thread, Linux's per-thread
// setpriority), and when the cores are busy the io threads win them.
//
// ConnectionResponder: what such a LIST writes must still reach the connection on the
// connection's executor (its stream allows operations only there, base/tls_socket.h); this
// decorator runs each of the inner responder's operations there and resumes its caller on the
// caller's own executor. Building the output (scanning, copying) stays on the worker.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include <optional>
#include <thread>
#include <vector>

#include "base/https_server.h"

namespace kite::apiserver {

class ListWorkers {
 public:
  // `threads` at `nice` (added to the process's niceness; 0 leaves it).
  ListWorkers(int threads, int nice);
  ~ListWorkers();  // Stop()
  ListWorkers(const ListWorkers&) = delete;
  ListWorkers& operator=(const ListWorkers&) = delete;
  boost::asio::any_io_executor executor() { return io_.get_executor(); }
  // Ends the threads; work not run by then is dropped.
  void Stop();

 private:
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

class ConnectionResponder final : public HttpsResponder {
 public:
  ConnectionResponder(HttpsResponder& inner, boost::asio::any_io_executor connection)
      : inner_(inner), connection_(std::move(connection)) {}
  boost::asio::awaitable<void> Send(int status, std::string content_type, std::string body, Headers headers) override;
  boost::asio::awaitable<bool> BeginStream(int status, std::string content_type, Headers headers) override;
  boost::asio::awaitable<bool> WriteChunk(std::string data) override;
  boost::asio::awaitable<void> EndStream() override;
  HttpsResponder* Decorated() override { return &inner_; }

 private:
  HttpsResponder& inner_;
  boost::asio::any_io_executor connection_;
};

}  // namespace kite::apiserver
