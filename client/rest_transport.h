// The REST transport: client::Transport over HTTPS to the API server a kubeconfig names, for
// programs outside kite-server (kite-hollow, kite-agent, tools). It obeys transport.h's contract
// exactly as the local transport does, so a Client cannot tell them apart.
//
// - Do() is thread-safe. Each call takes an idle keep-alive connection from a small pool (or
//   opens a new one), uses it alone, and gives it back; at most `max_idle` idle connections are
//   kept, the rest are closed. A request that fails on a reused connection before any byte of
//   the answer arrived (typically: the server closed the connection while it sat idle) is sent
//   once more on a fresh connection, as Go's net/http does for kubectl and client-go.
// - Watch() runs each stream on its own thread and connection, reading the chunked body and
//   splitting it into lines. A thread per stream is the right size for agents and tools, which
//   hold a handful of watches; a program with thousands of streams wants asio (see
//   bench/api_watch.cc). A line longer than 64 MiB ends the stream as a transport failure.
// - WatchStream::Stop() (and the destructor) shuts the stream's connection down and joins its
//   thread; called from inside one of the stream's own callbacks it cannot join, so it lets the
//   thread finish by itself. Either way, no callback of that stream runs once Stop returns (a
//   callback already running on another thread is waited for).
// - on_end: code 200 when the server ended the stream cleanly (timeoutSeconds), the status and
//   its body when the server answered the watch with a non-2xx status, code 0 with `error` for a
//   transport failure (connect, TLS, a broken stream).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/https_client.h"
#include "base/status.h"
#include "client/transport.h"

namespace kite::client {

struct RestTransportOptions {
  std::string user_agent = "kite";
  // Idle keep-alive connections kept for Do(): client-go's default per host (25). Fewer than a
  // program's concurrent requests makes a burst of them open (and TLS-handshake) a connection
  // per request beyond the pool, and close it after.
  size_t max_idle = 25;
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(30);
};

// Fails when the kubeconfig's certificates do not load.
Result<std::shared_ptr<Transport>> MakeRestTransport(const Kubeconfig& kubeconfig, RestTransportOptions options = {});
// Loads the kubeconfig at `path` first (see base/https_client.h for what is understood).
Result<std::shared_ptr<Transport>> MakeRestTransport(const std::string& kubeconfig_path,
                                                      RestTransportOptions options = {});

}  // namespace kite::client
