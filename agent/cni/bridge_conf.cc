#include "agent/cni/bridge_conf.h"

#include <net/if.h>

#include "api/object.h"

namespace kite::cni {
namespace json = boost::json;

namespace {

using Conf = std::optional<std::expected<BridgeConf, Failure>>;
Conf Wrong(std::string msg) { return std::expected<BridgeConf, Failure>(std::unexpected(Failure{kErrInvalidConfig, std::move(msg)})); }
// Present and not null (runtimeConfig's ips, vlanTrunk, args: any value asks for the real plugin).
bool Given(const json::object& o, api::Path path) {
  const json::value* v = api::Find(o, path);
  return v && !v->is_null();
}

// Ours to do, or nullopt (hand on); an error for a configuration that is ours but wrong.
}  // namespace

Conf ParseBridgeConf(const json::object& c, std::string_view cni_args) {
  // What this program leaves to the real plugin.
  for (const char* k : {"ipMasq", "isDefaultGateway", "forceAddress", "promiscMode", "macspoofchk", "enabledad"}) {
    if (api::GetBool(c, k)) return std::nullopt;
  }
  if (const json::value* v = api::Find(c, "vlan"); v && !(v->is_int64() && v->as_int64() == 0)) return std::nullopt;
  if (Given(c, {"vlanTrunk"}) || Given(c, {"runtimeConfig", "ips"}) || Given(c, {"runtimeConfig", "mac"}) || Given(c, {"args"})) {
    return std::nullopt;
  }
  if ((";" + std::string(cni_args)).find(";IP=") != std::string::npos) return std::nullopt;
  const json::object* ipam = api::FindObject(c, "ipam");
  if (!ipam || api::GetString(*ipam, "type") != "host-local" || ipam->contains("subnet") || ipam->contains("resolvConf")) {
    return std::nullopt;
  }
  const json::array& ranges = api::GetArray(*ipam, "ranges");
  if (ranges.size() != 1 || !ranges[0].is_array() || ranges[0].as_array().size() != 1 ||
      !ranges[0].as_array()[0].is_object()) {
    return std::nullopt;
  }
  const json::object& r = ranges[0].as_array()[0].as_object();
  const std::string subnet = api::GetString(r, "subnet");
  if (subnet.find(':') != std::string::npos) return std::nullopt;  // IPv6: the real plugin
  BridgeConf b;
  b.version = api::GetString(c, "cniVersion");
  b.network = api::GetString(c, "name");
  if (b.network.empty()) return Wrong("the network configuration has no name");
  if (std::string br = api::GetString(c, "bridge"); !br.empty()) b.bridge = std::move(br);
  if (b.bridge.size() >= IFNAMSIZ) return Wrong("bridge name " + b.bridge + " is too long");
  b.is_gateway = api::GetBool(c, "isGateway");
  b.hairpin = api::GetBool(c, "hairpinMode");
  if (const int64_t mtu = api::GetInt(c, "mtu"); mtu > 0 && mtu < 65536) b.mtu = static_cast<uint32_t>(mtu);
  if (std::string d = api::GetString(*ipam, "dataDir"); !d.empty()) b.data_dir = std::move(d);
  auto range = MakeRange(subnet, api::GetString(r, "gateway"), api::GetString(r, "rangeStart"), api::GetString(r, "rangeEnd"));
  if (!range.ok()) return Wrong(range.error().message());
  b.range = *range;
  for (const json::value& rv : api::GetArray(*ipam, "routes")) {
    if (!rv.is_object()) continue;
    const std::string dst = api::GetString(rv.as_object(), "dst");
    if (dst.find(':') != std::string::npos) return std::nullopt;
    auto d = ParseIpv4Cidr(dst, HostBits::kClear);
    if (!d.ok()) return Wrong("ipam route dst: " + d.error().message());
    RouteConf rc{*d, 0};
    if (const std::string gw = api::GetString(rv.as_object(), "gw"); !gw.empty()) {
      auto g = ParseIpv4(gw);
      if (!g) return std::nullopt;
      rc.gw = *g;
    }
    b.routes.push_back(rc);
  }
  if (const json::object* dns = api::FindObject(c, "dns")) b.dns = *dns;
  return std::expected<BridgeConf, Failure>(std::move(b));
}

}  // namespace kite::cni
