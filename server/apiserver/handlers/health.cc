// /version and the health checks (health.h).
#include "server/apiserver/handlers/health.h"

#include <boost/json.hpp>

#include <string>

#include "server/apiserver/apiserver.h"

namespace kite::apiserver {
namespace {

std::string VersionJson() {
  boost::json::object v;
  v["major"] = "1";
  v["minor"] = "32";
  v["gitVersion"] = std::string(kKubernetesVersion) + "+kite";
  v["gitCommit"] = "0000000000000000000000000000000000000000";
  v["gitTreeState"] = "clean";
  v["buildDate"] = __DATE__;  // NOLINT: informational only
  v["goVersion"] = "none";
  v["compiler"] = "g++";
#if defined(__aarch64__)
  v["platform"] = "linux/arm64";
#elif defined(__arm__)
  v["platform"] = "linux/arm";
#else
  v["platform"] = "linux/amd64";
#endif
  return boost::json::serialize(v);
}

}  // namespace

std::optional<RawResponse> ServeHealth(const HttpsRequest& req, datastore::Store* store, bool registered) {
  if (req.path == "/version" || req.path == "/version/") return RawResponse{200, "application/json", VersionJson(), {}};
  if (req.path == "/healthz" || req.path == "/livez" || req.path == "/readyz") {
    datastore::RangeRequest probe;
    probe.key = "/registry/health";
    const bool live = req.path == "/livez";
    const bool store_ok = live || store->Range(probe).ok();
    const bool ok = live || (store_ok && registered);
    // Upstream's check names, and "reason withheld" as it answers (the details are for the log).
    std::string verbose = "[+]ping ok\n";
    if (!live) {
      verbose += store_ok ? "[+]etcd ok\n" : "[-]etcd failed: reason withheld\n";
      verbose += registered ? "[+]poststarthook/apiservice-registration-controller ok\n"
                            : "[-]poststarthook/apiservice-registration-controller failed: reason withheld\n";
    }
    // Upstream lists every check when one failed, and with ?verbose.
    std::string body = ok && !req.HasQuery("verbose") ? "ok"
                       : verbose + req.path.substr(1) + (ok ? " check passed\n" : " check failed");
    return RawResponse{ok ? 200 : 500, "text/plain; charset=utf-8", std::move(body), {}};
  }
  return std::nullopt;
}

}  // namespace kite::apiserver
