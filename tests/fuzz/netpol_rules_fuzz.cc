// NetworkPolicies as every node's policy controller reads them (agent/netpol/policy_rules.h),
// untrusted: the input is a policy's spec (JSON; other bytes build one), applied in a small fixed cluster (pods on this
// node and another, two namespaces). Never a crash; the text is one filter-table batch whose
// every line declares, fills or deletes a chain of ours (nothing from the input but addresses,
// numbers and known protocols reaches it: no ACCEPT, no other chain, no line break); the
// expansion stays within its bounds.
#include <boost/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string_view>

#include "agent/netpol/policy_rules.h"

namespace {

namespace json = boost::json;

json::object Parse(const char* text) { return json::parse(text).as_object(); }

// Input that is not JSON builds a spec from its bytes (random bytes are almost never a JSON
// object, so without this the small runs would not get past the parser): each byte picks a rule,
// a peer, a port or a selector from tables that include bad values.
json::object SpecFromBytes(const uint8_t* data, size_t size) {
  static const char* const protocols[] = {"TCP", "UDP", "SCTP", "ICMP", "", "tcp -j ACCEPT"};
  static const char* const names[] = {"http", "dns", "nope", "80", "0", "99999", ""};
  static const char* const labels[] = {"web", "db", "client", "x"};
  size_t i = 0;
  auto next = [&]() -> unsigned { return i < size ? data[i++] : 0; };
  json::object spec;
  spec["podSelector"] = (next() & 1) ? json::object{} : json::object{{"matchLabels", json::object{{"app", labels[next() % 4]}}}};
  json::array types;
  const unsigned t = next();
  if (t & 1) types.emplace_back("Ingress");
  if (t & 2) types.emplace_back("Egress");
  if (t & 4) spec["policyTypes"] = types;
  json::array ingress, egress;
  for (int rules = 0; i < size && rules < 16; ++rules) {  // enough to combine; more only costs time
    json::object rule;
    json::array peers, ports;
    for (unsigned n = next() % 4; n > 0; --n) {
      const unsigned kind = next();
      if (kind % 3 == 0) {
        const std::string cidr = std::to_string(next()) + "." + std::to_string(next()) + ".0.0/" + std::to_string(next() % 40);
        json::object block{{"cidr", cidr}};
        if (kind & 8) block["except"] = json::array{std::to_string(next()) + ".1.0.0/" + std::to_string(next() % 40)};
        peers.push_back(json::object{{"ipBlock", block}});
      } else {
        json::object peer;
        if (kind % 3 == 1 || (kind & 16)) peer["namespaceSelector"] = json::object{{"matchLabels", json::object{{"team", "blue"}}}};
        if (kind % 3 == 2 || (kind & 32)) peer["podSelector"] = json::object{{"matchLabels", json::object{{"app", labels[next() % 4]}}}};
        peers.push_back(peer);
      }
    }
    for (unsigned n = next() % 4; n > 0; --n) {
      json::object port{{"protocol", protocols[next() % 6]}};
      const unsigned kind = next();
      if (kind % 3 == 0) port["port"] = static_cast<int64_t>(next() << 8 | next());
      if (kind % 3 == 1) port["port"] = names[next() % 7];
      if (kind & 4) port["endPort"] = static_cast<int64_t>(next() << 8 | next());
      ports.push_back(port);
    }
    if (!peers.empty()) rule["from"] = peers;
    if (!ports.empty()) rule["ports"] = ports;
    json::object out = rule;
    if (rule.contains("from")) out["to"] = out["from"];
    ((next() & 1) ? ingress : egress).push_back(out);
  }
  spec["ingress"] = ingress;
  spec["egress"] = egress;
  return spec;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace netpol = kite::netpol;
  boost::system::error_code ec;
  json::value spec = json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec || !spec.is_object()) spec = SpecFromBytes(data, size);
  static const json::object pods[] = {
      Parse(R"({"metadata":{"namespace":"default","name":"web","labels":{"app":"web"}},"spec":{"nodeName":"n1",
        "containers":[{"name":"c","ports":[{"name":"http","containerPort":80},{"name":"dns","containerPort":53,"protocol":"UDP"}]}]},
        "status":{"phase":"Running","podIP":"10.42.0.5"}})"),
      Parse(R"({"metadata":{"namespace":"default","name":"db","labels":{"app":"db","tier":"x"}},"spec":{"nodeName":"n1"},
        "status":{"phase":"Running","podIP":"10.42.0.6"}})"),
      Parse(R"({"metadata":{"namespace":"other","name":"client","labels":{"app":"client"}},"spec":{"nodeName":"n2",
        "containers":[{"name":"c","ports":[{"name":"http","containerPort":8080}]}]},"status":{"phase":"Running","podIP":"10.42.1.7"}})")};
  static const json::object namespaces[] = {Parse(R"({"metadata":{"name":"default","labels":{"kubernetes.io/metadata.name":"default"}}})"),
                                            Parse(R"({"metadata":{"name":"other","labels":{"team":"blue"}}})")};
  json::object policy{{"metadata", json::object{{"namespace", "default"}, {"name", "p"}}}, {"spec", std::move(spec)}};
  netpol::ClusterState state;
  state.policies.push_back(&policy);
  for (const auto& p : pods) state.pods.push_back(&p);
  for (const auto& n : namespaces) state.namespaces.push_back(&n);
  const netpol::NetpolRules r = netpol::GenerateNetpolRules(state, "n1", {"KUBE-POD-IN-OLDOLDOLDOLDOLDO"});

  if (r.text.rfind("*filter\n", 0) != 0 || r.text.size() < 7 || r.text.compare(r.text.size() - 7, 7, "COMMIT\n") != 0) {
    std::abort();
  }
  if (r.text.find("ACCEPT") != std::string::npos || r.text.find('\r') != std::string::npos) std::abort();
  size_t allows = 0;
  std::istringstream in(r.text);
  for (std::string line; std::getline(in, line);) {
    if (line == "*filter" || line == "COMMIT") continue;
    std::string chain;
    if (line.rfind(":", 0) == 0) {
      chain = line.substr(1, line.find(' ') - 1);
    } else if (line.rfind("-A ", 0) == 0 || line.rfind("-X ", 0) == 0) {
      chain = line.substr(3, line.find(' ', 3) - 3);
    } else {
      std::abort();  // a line that is not ours
    }
    if (!netpol::IsNetpolChain(chain)) std::abort();
    if (line.find("--set-xmark 0x10000/0x10000") != std::string::npos) ++allows;
  }
  if (allows > netpol::kMaxAllowRules) std::abort();
  return 0;
}
