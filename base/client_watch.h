// Noticing that the client of a streamed answer went away while there is nothing to send it.
//
// ClientGone: whether the client of `res` has closed or reset its connection, without reading
// from it. Always false for in-process responders. Call it on the executor the handler runs on.
//
// ClientWatch: while a relay waits on its upstream (a kubelet's followed log, a pod) with
// nothing to send, it checks every `period` whether its client went away and then calls
// `on_gone` once (which closes the upstream connection, so the wait ends and the relay
// returns). Without it an idle `kubectl logs -f` whose kubectl was killed would hold its
// connections until the container's next line. Runs on the executor it is started from (a
// connection's strand, so `on_gone` never races the relay); destroying the watch stops it,
// after which neither `res` nor `on_gone` is touched.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>

#include "base/https_server.h"

namespace kite {

bool ClientGone(HttpsResponder& res);

class ClientWatch {
 public:
  ClientWatch(boost::asio::any_io_executor executor, HttpsResponder& res, std::function<void()> on_gone,
              std::chrono::milliseconds period = std::chrono::milliseconds(500));
  ~ClientWatch();
  ClientWatch(const ClientWatch&) = delete;
  ClientWatch& operator=(const ClientWatch&) = delete;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace kite
