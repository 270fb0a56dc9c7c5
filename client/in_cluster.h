// The add-ons' way to the API server when they run in a pod (client-go's rest.InClusterConfig):
// the KUBERNETES_SERVICE_HOST/PORT environment and the service account's token and CA mounted
// at /var/run/secrets/kubernetes.io/serviceaccount. Shared by kite-dns and kite-ingress.
//
// The token there is a projected one: it expires (an hour by default) and the kubelet writes a
// new one into the file before it does. So the token is not read once: TokenFileTransport reads
// the file again every `reread` (a minute, as client-go's cached token source) and at once
// after a 401, and then sends the next requests with the new token (fresh connections).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "base/https_client.h"
#include "base/status.h"
#include "client/rest_transport.h"
#include "client/transport.h"

namespace kite::client {

inline constexpr char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";

// The API server's address and CA from the pod's environment and `sa_dir`; no token (see
// TokenFileTransport). Fails outside a pod.
Result<Kubeconfig> InClusterConfig(const std::string& sa_dir = kServiceAccountDir);

// The transport an add-on starts with: the kubeconfig at `kubeconfig_path` when given, else the
// pod's (InClusterConfig with a TokenFileTransport over the service account's token file).
Result<std::shared_ptr<Transport>> MakeAddonTransport(const std::string& kubeconfig_path, const RestTransportOptions& options);

// Thread-safe, as every Transport. Watches keep the token they started with (the API server
// checks it when a watch starts); the informers' re-list after a watch ends goes through Do.
class TokenFileTransport final : public client::Transport {
 public:
  // Makes the transport that sends `token` (MakeRestTransport of a kubeconfig with that token).
  using Factory = std::function<Result<std::shared_ptr<client::Transport>>(const std::string& token)>;

  // Fails when the token file cannot be read (or is empty) or `make` fails.
  static Result<std::shared_ptr<TokenFileTransport>> Create(std::string token_path, Factory make,
                                                            std::chrono::steady_clock::duration reread = std::chrono::minutes(1));

  client::Response Do(const client::Request& request) override;
  std::unique_ptr<client::WatchStream> Watch(const client::Request& request,
                                             std::function<void(std::string_view line)> on_line,
                                             std::function<void(client::Response end)> on_end) override;

  // How many times a new token was taken from the file (tests, logs).
  int64_t rotations() const;

 private:
  TokenFileTransport(std::string path, Factory make, std::chrono::steady_clock::duration reread)
      : path_(std::move(path)), make_(std::move(make)), reread_(reread) {}
  // The transport of the newest token; reads the file when it is due or `force`.
  std::shared_ptr<client::Transport> Current(bool force);
  Status Reload();  // with mu_ held

  const std::string path_;
  const Factory make_;
  const std::chrono::steady_clock::duration reread_;
  mutable std::mutex mu_;
  std::string token_;                          // guarded by mu_
  std::shared_ptr<client::Transport> current_;  // guarded by mu_
  std::chrono::steady_clock::time_point next_read_;  // guarded by mu_
  int64_t rotations_ = 0;                      // guarded by mu_
};

}  // namespace kite::client
