// kite-cni's reading of what the container runtime sends it (agent/cni/bridge_conf.h, portmap):
// the network configuration (kite's conflist, the runtime's runtimeConfig — a pod's hostPorts —
// and the previous plugin's result) and CNI_ARGS. The input is the configuration (JSON; other
// bytes fill a bridge configuration's subnet, range and routes), then, after a NUL, CNI_ARGS.
// Never a crash; a configuration taken as kite-cni's own has a bridge name that fits an
// interface, its range inside its subnet and the gateway outside first..last; portmap's answer
// to an ADD is JSON.
#include <net/if.h>

#include <boost/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/cni/bridge_conf.h"
#include "agent/cni/plugin.h"

namespace {

namespace json = boost::json;

// Random bytes are almost never a JSON object: they become the strings of a bridge
// configuration kite would write, so the runs reach the range and route checks.
json::object ConfigFromBytes(std::string_view data) {
  std::string parts[5];
  size_t i = 0;
  for (char c : data) {
    if (c == '\n' && i < 4) {
      ++i;
      continue;
    }
    parts[i].push_back(c);
  }
  json::object range{{"subnet", parts[0]}};
  if (!parts[1].empty()) range["gateway"] = parts[1];
  if (!parts[2].empty()) range["rangeStart"] = parts[2];
  if (!parts[3].empty()) range["rangeEnd"] = parts[3];
  return json::object{
      {"cniVersion", "1.0.0"}, {"name", "kite-pod-network"}, {"type", "bridge"}, {"bridge", "cni0"}, {"isGateway", true},
      {"ipam", json::object{{"type", "host-local"}, {"ranges", json::array{json::array{range}}},
                            {"routes", json::array{json::object{{"dst", parts[4]}}}}}}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  const std::string_view text = in.substr(0, nul);
  const std::string_view args = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
  kite::cni::Invocation inv;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  inv.config = !ec && v.is_object() ? std::move(v.as_object()) : ConfigFromBytes(text);
  if (auto conf = kite::cni::ParseBridgeConf(inv.config, args); conf && conf->has_value()) {
    const kite::cni::BridgeConf& b = **conf;
    const auto& r = b.range;
    if (b.bridge.empty() || b.bridge.size() >= IFNAMSIZ) abort();
    if (r.first > r.last || !r.subnet.Contains(r.first) || !r.subnet.Contains(r.last)) abort();
    if (r.gateway >= r.first && r.gateway <= r.last) abort();
  }
  inv.plugin = "portmap";
  inv.command = "ADD";
  if (auto out = kite::cni::Portmap(inv); out && out->has_value() && !(*out)->empty()) {
    json::parse(**out, ec);
    if (ec) abort();
  }
  return 0;
}
