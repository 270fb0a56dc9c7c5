// ControllerManager: kube-controller-manager inside kite-server. It holds the leader-election
// Lease kube-system/kube-controller-manager; while leading, it runs the enabled controllers on
// one shared InformerFactory and a ControllerRunner (a small worker pool shared by all of
// them), all through one client on the API server's local transport.
//
// Controllers are named as upstream's --controllers flag names them ("replicaset",
// "deployment", "garbage-collector", …); `controllers` takes upstream's syntax: "*" enables
// every default one, "name" adds one, "-name" removes one.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

struct ControllerManagerOptions {
  std::vector<std::string> controllers{"*"};
  bool leader_elect = true;
  std::string identity;  // lease holder identity; default hostname_<random>
  int threads = 0;       // worker pool size; 0 = max(2, cores)
};

// What a controller gets when it is built.
struct ControllerContext {
  const client::Client* client;
};

using ControllerFactory = std::function<std::unique_ptr<client::Controller>(const ControllerContext&)>;

// Every controller kite knows, in start order, with its upstream name.
struct KnownController {
  const char* name;
  ControllerFactory make;
};
const std::vector<KnownController>& KnownControllers();

// Names enabled by `flags` (upstream --controllers semantics); unknown names are an error.
Result<std::vector<std::string>> EnabledControllers(const std::vector<std::string>& flags);

class ControllerManager {
 public:
  static Result<std::unique_ptr<ControllerManager>> Start(std::shared_ptr<client::Transport> transport,
                                                          ControllerManagerOptions options);
  ~ControllerManager();  // Stop()
  void Stop();

 private:
  ControllerManager() = default;
  void Lead();
  void StopControllers();
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace kite::controllers
