// The loopback plugin: `lo` up in the pod's namespace (ADD), down again (DEL).
#include <net/if.h>

#include <fstream>

#include "agent/cni/plugin.h"
#include "agent/network/netlink.h"
#include "api/object.h"

namespace kite::cni {
namespace json = boost::json;
namespace nl = network::netlink;

std::optional<Outcome> Loopback(const Invocation& inv) {
  if (inv.command != "ADD" && inv.command != "DEL") return std::nullopt;  // CHECK: the real plugin
  const bool add = inv.command == "ADD";
  if (add && inv.netns.empty()) return Outcome(std::unexpected(Failure{kErrInvalidEnvironment, "CNI_NETNS is required for ADD"}));
  if (inv.netns.empty()) return Outcome(std::string());
  Status in = EnterNetns(inv.netns);
  if (!in.ok()) {
    if (!add && in.IsNotFound()) return Outcome(std::string());  // gone already
    return Outcome(std::unexpected(Failure{add ? kErrInvalidEnvironment : kErrInternal, in.message()}));
  }
  auto sock = nl::Socket::Open();
  if (!sock.ok()) return Outcome(std::unexpected(Failure{kErrInternal, "netlink: " + sock.error().message()}));
  auto lo = sock->LinkByName("lo");
  if (!lo.ok() || !*lo) {
    if (!add) return Outcome(std::string());
    return Outcome(std::unexpected(Failure{kErrInternal, "no lo in " + inv.netns}));
  }
  Status s = sock->Do(add ? nl::BuildSetLinkUp((*lo)->index) : nl::BuildSetLinkDown((*lo)->index));
  if (!add) return Outcome(std::string());  // DEL ignores what it could not undo, as upstream
  if (!s.ok()) return Outcome(std::unexpected(Failure{kErrInternal, "set lo up: " + s.message()}));
  // The result names lo and its addresses, as upstream's: 127.0.0.1/8, and ::1/128 where the
  // namespace has IPv6.
  const std::string version = api::GetString(inv.config, "cniVersion");
  const bool v1 = version.empty() || version >= "1.0.0";
  json::array ips;
  json::object v4{{"interface", 0}, {"address", "127.0.0.1/8"}};
  if (!v1) v4["version"] = "4";
  ips.push_back(std::move(v4));
  if (std::ifstream f("/proc/self/net/if_inet6"); f) {
    std::string line;
    bool v6 = false;
    while (std::getline(f, line)) v6 = v6 || (line.size() > 3 && line.compare(line.size() - 3, 3, " lo") == 0);
    if (v6) {
      json::object o{{"interface", 0}, {"address", "::1/128"}};
      if (!v1) o["version"] = "6";
      ips.push_back(std::move(o));
    }
  }
  json::object result{
      {"cniVersion", version.empty() ? "1.0.0" : version},
      {"interfaces", json::array{json::object{{"name", "lo"}, {"mac", "00:00:00:00:00:00"}, {"sandbox", inv.netns}}}},
      {"ips", std::move(ips)},
      {"dns", json::object{}},
  };
  return Outcome(json::serialize(result));
}

}  // namespace kite::cni
