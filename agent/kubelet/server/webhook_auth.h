// Who may call the kubelet server, decided by the API server, as upstream's kubelet does with
// --authentication-token-webhook and --authorization-mode=Webhook: a bearer token is checked
// with a TokenReview, and every caller that is not in system:masters is allowed a request only
// if a SubjectAccessReview says it may `verb` the node's subresource (nodes/metrics, nodes/stats,
// nodes/log, nodes/spec, nodes/proxy). This is what lets Prometheus scrape a kubelet directly
// with a service-account token whose ClusterRole grants nodes/metrics.
//
// KubeletAuthorizer is the seam (tests give the kubelet server a fake one); WebhookAuthorizer
// is the real one, over the agent's client. Its answers are cached as upstream's defaults say:
// tokens for 2 minutes (rejections too, so a bad token cannot make every request a review),
// allowed decisions for 5 minutes, denied ones for 30 seconds. Thread-safe. Calls are
// synchronous on the caller's thread (the kubelet server's), bounded by the client's timeout.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "base/status.h"

namespace kite::client {
class Client;
}

namespace kite::kubelet::server {

struct KubeletUser {
  std::string name, uid;
  std::vector<std::string> groups;
};

// The attributes upstream's kubelet asks about a request: verb from the HTTP method, resource
// nodes named after this node, the subresource from the path.
struct KubeletRequestAttributes {
  std::string verb;         // get, create, update, patch, delete
  std::string subresource;  // stats, metrics, log, spec or proxy
};
KubeletRequestAttributes AttributesOf(const std::string& method, const std::string& path);

class KubeletAuthorizer {
 public:
  virtual ~KubeletAuthorizer() = default;
  // The user a bearer token belongs to; nullopt when the API server rejects it; an error when
  // it cannot be asked.
  virtual Result<std::optional<KubeletUser>> AuthenticateToken(const std::string& token) = 0;
  // Whether `user` may make the request; an error when the API server cannot be asked.
  virtual Result<bool> Authorize(const KubeletUser& user, const KubeletRequestAttributes& a) = 0;
};

class WebhookAuthorizer final : public KubeletAuthorizer {
 public:
  // `client` outlives this; `node_name` is the name in every review.
  WebhookAuthorizer(client::Client* client, std::string node_name);
  Result<std::optional<KubeletUser>> AuthenticateToken(const std::string& token) override;
  Result<bool> Authorize(const KubeletUser& user, const KubeletRequestAttributes& a) override;

 private:
  using Clock = std::chrono::steady_clock;
  client::Client* client_;
  const std::string node_name_;
  std::mutex mu_;
  // guarded by mu_; keyed by the token's SHA-256, never the token itself.
  std::map<std::string, std::pair<Clock::time_point, std::optional<KubeletUser>>> tokens_;
  // guarded by mu_; keyed by user, groups, verb and subresource.
  std::map<std::string, std::pair<Clock::time_point, bool>> decisions_;
};

}  // namespace kite::kubelet::server
