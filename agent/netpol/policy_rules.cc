#include "agent/netpol/policy_rules.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "agent/proxy/iptables_rules.h"
#include "api/labels.h"
#include "api/object.h"
#include "base/ip_address.h"

namespace kite::netpol {
namespace {

namespace json = boost::json;

struct Pod {
  const json::object* obj = nullptr;
  std::string ns, name, ip, node;
};

// An IPv4 CIDR in its canonical text (host bits cleared, as the kernel keeps it); nullopt for
// anything else, so nothing but an address and a prefix reaches a rule's text.
// A bare address is its /32.
std::optional<std::string> CanonicalCidr(const std::string& text) {
  if (text.find('/') == std::string::npos) {
    const auto address = ParseIpv4(text);
    return address ? std::optional(FormatIpv4Cidr(Ipv4Cidr{*address, 32})) : std::nullopt;
  }
  const auto cidr = ParseIpv4Cidr(text, HostBits::kClear);
  return cidr.ok() ? std::optional(FormatIpv4Cidr(*cidr)) : std::nullopt;
}

// Pods that can send or receive pod traffic: an IPv4 address of their own (not the node's), not
// finished.
std::vector<Pod> UsablePods(const std::vector<const json::object*>& pods) {
  std::vector<Pod> out;
  for (const json::object* p : pods) {
    const std::string ip = api::GetString(*p, {"status", "podIP"});
    const std::string phase = api::GetString(*p, {"status", "phase"});
    const json::value* host = api::Find(api::GetObject(*p, "spec"), "hostNetwork");
    if (!ParseIpv4(ip) || phase == "Succeeded" || phase == "Failed" || (host && host->is_bool() && host->as_bool())) {
      continue;
    }
    out.push_back({p, api::Namespace(*p), api::Name(*p), ip, api::GetString(*p, {"spec", "nodeName"})});
  }
  return out;
}

// A metav1.LabelSelector member: absent → nullopt (not given); invalid → selects nothing.
std::optional<api::LabelSelector> SelectorAt(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  auto s = api::LabelSelector::FromLabelSelectorJson(*v);
  return s.ok() ? *s : api::LabelSelector::Nothing();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A named container port of `pod` with that protocol (0: none).
int64_t NamedPort(const Pod* pod, const std::string& name, const std::string& protocol) {
  if (!pod) return 0;
  for (const char* kind : {"initContainers", "containers"}) {
    for (const json::value& c : api::GetArray(api::GetObject(*pod->obj, "spec"), kind)) {
      if (!c.is_object()) continue;
      for (const json::value& pv : api::GetArray(c.as_object(), "ports")) {
        if (!pv.is_object()) continue;
        const json::object& p = pv.as_object();
        std::string proto = api::GetString(p, "protocol");
        if (proto.empty()) proto = "TCP";
        if (api::GetString(p, "name") == name && proto == protocol) return api::GetInt(p, "containerPort");
      }
    }
  }
  return 0;
}

// One NetworkPolicyPort as iptables matches: "" for every port of the protocol... nullopt when
// it can match nothing (a named port the destination does not have).
std::optional<std::string> PortMatch(const json::object& port, const Pod* destination) {
  std::string protocol = api::GetString(port, "protocol");
  if (protocol.empty()) protocol = "TCP";
  if (protocol != "TCP" && protocol != "UDP" && protocol != "SCTP") return std::nullopt;
  const std::string p = Lower(protocol);
  const json::value* v = port.if_contains("port");
  if (!v || v->is_null()) return "-p " + p;
  int64_t number = 0;
  if (v->is_int64()) {
    number = v->as_int64();
  } else if (v->is_string()) {
    const std::string s(v->as_string());
    if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      number = s.size() <= 5 ? std::stoll(s) : 0;
    } else {
      number = NamedPort(destination, s, protocol);
    }
  }
  if (number <= 0 || number > 65535) return std::nullopt;
  const int64_t end = api::GetInt(port, "endPort");
  return "-p " + p + " -m " + p + " --dport " + std::to_string(number) +
         (end > number && end <= 65535 ? ":" + std::to_string(end) : "");
}

// A rule's ports as matches: none listed → {""} (every port); otherwise those that can match.
std::vector<std::string> PortMatches(const json::object& rule, const Pod* destination) {
  const json::array& ports = api::GetArray(rule, "ports");
  if (ports.empty()) return {""};
  std::vector<std::string> out;
  for (const json::value& p : ports) {
    if (!p.is_object()) continue;
    if (auto m = PortMatch(p.as_object(), destination)) out.push_back(*m);
  }
  return out;
}

// Whether a rule names a port (resolved per destination pod, so not once for all peers).
bool HasNamedPort(const json::object& rule) {
  for (const json::value& p : api::GetArray(rule, "ports")) {
    const json::value* v = p.is_object() ? p.as_object().if_contains("port") : nullptr;
    if (v && v->is_string() && !v->as_string().empty() && !std::isdigit(static_cast<unsigned char>(v->as_string()[0]))) {
      return true;
    }
  }
  return false;
}

class Generator {
 public:
  Generator(const ClusterState& state, const std::string& node) : node_(node), pods_(UsablePods(state.pods)) {
    for (const json::object* n : state.namespaces) namespaces_[api::Name(*n)] = n;
    policies_ = state.policies;
  }

  NetpolRules Run(const std::set<std::string>& stale) {
    NetpolRules out;
    out.chains.insert(kForwardChain);
    body_ += std::string("-A ") + kForwardChain +
             " -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"answers of allowed connections\" -j RETURN\n";
    for (const Pod& pod : pods_) {
      if (pod.node != node_) continue;
      std::vector<std::pair<const json::object*, const json::object*>> in, eg;  // (policy, spec)
      bool isolated_in = false, isolated_eg = false;
      for (const json::object* policy : policies_) {
        if (api::Namespace(*policy) != pod.ns) continue;
        const json::object& spec = api::GetObject(*policy, "spec");
        const api::LabelSelector selects = SelectorAt(spec, "podSelector").value_or(api::LabelSelector::Everything());
        if (!selects.Matches(api::GetObject(*pod.obj, {"metadata", "labels"}))) continue;
        bool ingress = true, egress = !api::GetArray(spec, "egress").empty();
        if (const json::value* types = spec.if_contains("policyTypes"); types && types->is_array()) {
          ingress = egress = false;
          for (const json::value& t : types->as_array()) {
            if (t.is_string() && t.as_string() == "Ingress") ingress = true;
            if (t.is_string() && t.as_string() == "Egress") egress = true;
          }
        }
        if (ingress) {
          isolated_in = true;
          in.emplace_back(policy, &spec);
        }
        if (egress) {
          isolated_eg = true;
          eg.emplace_back(policy, &spec);
        }
      }
      const std::string id = pod.ns + "/" + pod.name;
      if (isolated_in) PodChain(out, pod, id, true, in);
      if (isolated_eg) PodChain(out, pod, id, false, eg);
      if (isolated_in || isolated_eg) ++out.isolated_pods;
    }
    std::string text = "*filter\n";
    std::set<std::string> to_delete;
    for (const std::string& c : stale) {
      if (!out.chains.count(c)) to_delete.insert(c);
    }
    for (const std::string& c : out.chains) text += ":" + c + " - [0:0]\n";
    for (const std::string& c : to_delete) text += ":" + c + " - [0:0]\n";
    text += body_;
    for (const std::string& c : to_delete) text += "-X " + c + "\n";
    text += "COMMIT\n";
    out.text = std::move(text);
    return out;
  }

 private:
  void PodChain(NetpolRules& out, const Pod& pod, const std::string& id, bool ingress,
                const std::vector<std::pair<const json::object*, const json::object*>>& policies) {
    const std::string chain = proxy::HashName(ingress ? "KUBE-POD-IN-" : "KUBE-POD-EG-", id);
    out.chains.insert(chain);
    body_ += std::string("-A ") + kForwardChain + (ingress ? " -d " : " -s ") + pod.ip + "/32 -m comment --comment \"" + id +
             (ingress ? " ingress" : " egress") + "\" -j " + chain + "\n";
    std::set<std::string> lines;  // this chain's allowing rules, once each
    cut_ = false;
    for (const auto& [policy, spec] : policies) {
      for (const json::value& r : api::GetArray(*spec, ingress ? "ingress" : "egress")) {
        if (r.is_object() && !cut_) Rule(out, chain, pod, ingress, api::Namespace(*policy), r.as_object(), lines);
      }
    }
    allow_lines_ += lines.size();
    if (cut_) out.truncated.push_back(id + (ingress ? " ingress" : " egress"));
    body_ += "-A " + chain + " -j MARK --set-xmark 0x0/0x10000\n";
    for (const std::string& l : lines) body_ += l;
    body_ += "-A " + chain + " -m mark ! --mark " + kAllowMark + " -m comment --comment \"" + id + ": no policy allows it\" -j DROP\n";
  }

  // One ingress or egress rule of a policy that selects `pod`.
  void Rule(NetpolRules& out, const std::string& chain, const Pod& pod, bool ingress, const std::string& policy_ns,
            const json::object& rule, std::set<std::string>& lines) {
    const std::string side = ingress ? " -s " : " -d ";
    const std::string allow = std::string(" -j MARK --set-xmark ") + kAllowMark + "\n";
    auto add = [&](const std::string& peer, const std::string& port, const std::string& target) {
      if (lines.size() >= kMaxAllowRulesPerChain || allow_lines_ + lines.size() >= kMaxAllowRules) {
        cut_ = true;
        return;
      }
      lines.insert("-A " + chain + peer + (port.empty() ? "" : " " + port) + target);
    };
    const json::array& peers = api::GetArray(rule, ingress ? "from" : "to");
    // The ports once: ingress resolves names on this pod; egress on each peer pod, and a named
    // port of an egress rule to addresses names no one pod's port.
    const std::vector<std::string> ports = PortMatches(rule, ingress ? &pod : nullptr);
    const bool per_peer = !ingress && HasNamedPort(rule);
    if (peers.empty()) {  // every address
      for (const std::string& pm : ports) add("", pm, allow);
      return;
    }
    for (const json::value& pv : peers) {
      if (cut_) return;
      if (!pv.is_object()) continue;
      const json::object& peer = pv.as_object();
      if (const json::object* block = api::FindObject(peer, {"ipBlock"})) {
        const std::optional<std::string> cidr = CanonicalCidr(api::GetString(*block, "cidr"));
        if (!cidr) continue;  // IPv4 only
        std::vector<std::string> excepts;
        for (const json::value& e : api::GetArray(*block, "except")) {
          if (auto ex = e.is_string() ? CanonicalCidr(std::string(e.as_string())) : std::nullopt) excepts.push_back(*ex);
        }
        std::string target = allow;
        if (!excepts.empty()) {
          std::string key = side + *cidr;
          for (const std::string& e : excepts) key += "," + e;
          const std::string ipb = proxy::HashName("KUBE-IPB-", key);
          if (!out.chains.count(ipb)) {
            // Its rules count toward the node's bound too.
            if (allow_lines_ + lines.size() + 1 + excepts.size() > kMaxAllowRules) {
              cut_ = true;
              return;
            }
            allow_lines_ += 1 + excepts.size();
            out.chains.insert(ipb);
            for (const std::string& e : excepts) body_ += "-A " + ipb + side + e + " -j RETURN\n";
            body_ += "-A " + ipb + allow;
          }
          target = " -j " + ipb + "\n";
        }
        for (const std::string& pm : ports) add(side + *cidr, pm, target);
        continue;
      }
      const std::optional<api::LabelSelector> ns_sel = SelectorAt(peer, "namespaceSelector");
      const std::optional<api::LabelSelector> pod_sel = SelectorAt(peer, "podSelector");
      if (!ns_sel && !pod_sel) continue;
      for (const Pod& other : pods_) {
        if (cut_) return;
        if (ns_sel) {
          auto n = namespaces_.find(other.ns);
          if (n == namespaces_.end() || !ns_sel->Matches(api::GetObject(*n->second, {"metadata", "labels"}))) continue;
        } else if (other.ns != policy_ns) {
          continue;
        }
        if (pod_sel && !pod_sel->Matches(api::GetObject(*other.obj, {"metadata", "labels"}))) continue;
        std::vector<std::string> own;
        if (per_peer) own = PortMatches(rule, &other);
        for (const std::string& pm : per_peer ? own : ports) add(side + other.ip + "/32", pm, allow);
      }
    }
  }

  const std::string& node_;
  std::vector<Pod> pods_;
  std::map<std::string, const json::object*> namespaces_;
  std::vector<const json::object*> policies_;
  std::string body_;
  size_t allow_lines_ = 0;  // allowing rules written so far, every chain
  bool cut_ = false;        // the chain being written reached a limit
};

}  // namespace

NetpolRules GenerateNetpolRules(const ClusterState& state, const std::string& node_name, const std::set<std::string>& stale) {
  return Generator(state, node_name).Run(stale);
}

bool IsNetpolChain(const std::string& chain) {
  return chain == kForwardChain || chain.rfind("KUBE-POD-IN-", 0) == 0 || chain.rfind("KUBE-POD-EG-", 0) == 0 ||
         chain.rfind("KUBE-IPB-", 0) == 0;
}

}  // namespace kite::netpol
