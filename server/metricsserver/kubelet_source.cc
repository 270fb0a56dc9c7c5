#include "server/metricsserver/kubelet_source.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "api/object.h"
#include "server/apiserver/kubelet/kubelet_client.h"

namespace kite::metricsserver {
namespace asio = boost::asio;
namespace json = boost::json;

std::optional<NodeTarget> TargetOf(const json::object& node) {
  NodeTarget t;
  t.name = api::GetString(api::Metadata(node), "name");
  auto ep = apiserver::KubeletEndpointOf(node);
  if (!ep.ok() || t.name.empty()) return std::nullopt;
  t.host = ep->host;
  t.port = ep->port;
  return t;
}

namespace {

// A node's resource metrics are a few lines per container: far below this.
constexpr size_t kMaxAnswer = 16u << 20;

class KubeletClientSource final : public KubeletSource {
 public:
  explicit KubeletClientSource(const apiserver::KubeletClient* client) : client_(client) {}

  Result<std::string> Fetch(const NodeTarget& node, std::chrono::steady_clock::time_point deadline) override {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      return Status(Code::kDeadlineExceeded, "no time left to scrape node " + node.name);
    }
    asio::io_context io;
    Result<std::string> out = Status(Code::kUnavailable, "not scraped");
    // Named: the coroutine holds references to its arguments until io.run() returns.
    const apiserver::KubeletEndpoint ep{node.host, node.port, node.name};
    const std::string target = "/metrics/resource";
    asio::co_spawn(io, client_->Get(ep, target, left, kMaxAnswer),
                   [&out](std::exception_ptr e, Result<std::string> r) {
                     out = e ? Result<std::string>(Status(Code::kInternal, "scrape failed")) : std::move(r);
                   });
    io.run();
    if (!out.ok()) {
      return Status(Code::kUnavailable, "scraping node " + node.name + " at " + node.host + ":" +
                                            std::to_string(node.port) + ": " + out.status().message());
    }
    return out;
  }

 private:
  const apiserver::KubeletClient* client_;
};

}  // namespace

std::unique_ptr<KubeletSource> NewKubeletClientSource(const apiserver::KubeletClient* client) {
  return std::make_unique<KubeletClientSource>(client);
}

}  // namespace kite::metricsserver
