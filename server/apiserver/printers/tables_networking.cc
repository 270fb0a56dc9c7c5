// Table columns of Services and Endpoints (core), EndpointSlices (discovery.k8s.io) and Ingresses,
// IngressClasses and NetworkPolicies (networking.k8s.io), as upstream's printers. Upstream prints
// its internal Service, where conversion from v1 makes clusterIP the first of clusterIPs; the JSON
// is read that way here.
#include <set>

#include "server/apiserver/printers/tables_kinds.h"

namespace kite::apiserver::tables {
namespace {

// Sorted, de-duplicated ip-or-hostname of load balancer ingress points, comma-joined (upstream
// clips to 16 bytes only for non-wide output, which the server never generates).
std::string LoadBalancerIngress(const json::object& lb_status) {
  std::set<std::string> seen;
  for (const json::value& v : api::GetArray(lb_status, "ingress")) {
    std::string ip = api::GetString(api::AsObject(v), "ip"), host = api::GetString(api::AsObject(v), "hostname");
    if (!ip.empty()) {
      seen.insert(ip);
    } else if (!host.empty()) {
      seen.insert(host);
    }
  }
  return Join(std::vector<std::string>(seen.begin(), seen.end()), ",");
}

// ---- printers -----------------------------------------------------------------------

constexpr Column kServiceColumns[] = {
    kNameCol,
    {"Type", "string", "", "How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.", 0},
    {"Cluster-IP", "string", "", "The service's virtual IP inside the cluster.", 0},
    {"External-IP", "string", "", "Addresses the service is reachable at from outside the cluster.", 0},
    {"Port(s)", "string", "", "Service ports, with node ports where allocated.", 0},
    kAgeCol,
    {"Selector", "string", "", "Labels of the pods the service routes to.", 1},
};

PrintedRow PrintService(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  std::string type = api::GetString(spec, "type");
  if (type.empty()) type = "ClusterIP";
  // Conversion from v1 makes clusterIP the first of clusterIPs (it wins when the two disagree).
  std::string cluster_ip = api::GetString(spec, "clusterIP");
  if (const json::array* ips = api::FindArray(spec, "clusterIPs"); cluster_ip.empty() && ips && !ips->empty()) {
    cluster_ip = api::AsString((*ips)[0]);
  }
  std::vector<std::string> external = api::GetStrings(spec, "externalIPs");
  std::string external_ip;
  if (type == "ClusterIP" || type == "NodePort") {
    external_ip = external.empty() ? "<none>" : Join(external, ",");
  } else if (type == "LoadBalancer") {
    std::string lb = LoadBalancerIngress(api::GetObject(o, {"status", "loadBalancer"}));
    if (!external.empty()) {
      external_ip = lb.empty() ? Join(external, ",") : lb + "," + Join(external, ",");
    } else {
      external_ip = lb.empty() ? "<pending>" : lb;
    }
  } else if (type == "ExternalName") {
    external_ip = api::GetString(spec, "externalName");
  } else {
    external_ip = "<unknown>";
  }
  std::vector<std::string> ports;
  if (const json::array* ps = api::FindArray(spec, "ports")) {
    for (const json::value& v : *ps) {
      const json::object& p = api::AsObject(v);
      std::string proto = api::GetString(p, "protocol");
      if (proto.empty()) proto = "TCP";
      int64_t node_port = api::GetInt(p, "nodePort");
      ports.push_back(std::to_string(api::GetInt(p, "port")) + (node_port > 0 ? ":" + std::to_string(node_port) : "") +
                      "/" + proto);
    }
  }
  return Row({json::value(api::Name(o)), json::value(type), json::value(NoneIfEmpty(cluster_ip)),
              json::value(external_ip), json::value(NoneIfEmpty(Join(ports, ","))), json::value(Age(o, ctx)),
              json::value(FormatLabels(api::GetObject(spec, "selector")))});
}

constexpr Column kEndpointsColumns[] = {
    kNameCol,
    {"Endpoints", "string", "", "Ready addresses (ip:port) of the endpoints, the first few of them.", 0},
    kAgeCol,
};

std::string HostPort(const std::string& ip, int64_t port) {
  return (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

PrintedRow PrintEndpoints(const json::object& o, const PrintContext& ctx) {
  const json::array& subsets = api::GetArray(o, "subsets");
  std::string text = "<none>";
  if (!subsets.empty()) {
    constexpr size_t kMax = 3;
    std::vector<std::string> list;
    size_t count = 0;
    bool more = false;
    for (const json::value& sv : subsets) {
      const json::object& ss = api::AsObject(sv);
      const json::array& addrs = api::GetArray(ss, "addresses");
      const json::array& ports = api::GetArray(ss, "ports");
      size_t n_addrs = addrs.size();
      if (ports.empty()) {  // headless service without ports
        count += n_addrs;
        for (size_t i = 0; i < n_addrs; ++i) {
          if (list.size() == kMax) {
            more = true;
            break;
          }
          list.push_back(api::GetString(api::AsObject(addrs[i]), "ip"));
        }
        continue;
      }
      for (const json::value& pv : ports) {
        count += n_addrs;
        for (size_t i = 0; i < n_addrs; ++i) {
          if (list.size() == kMax) {
            more = true;
            break;
          }
          list.push_back(
              HostPort(api::GetString(api::AsObject(addrs[i]), "ip"), api::GetInt(api::AsObject(pv), "port")));
        }
      }
    }
    text = Join(list, ",");
    if (more) text += " + " + std::to_string(count - kMax) + " more...";
  }
  return Row({json::value(api::Name(o)), json::value(text), json::value(Age(o, ctx))});
}

std::string ListWithMore(const std::vector<std::string>& list, size_t count, size_t max) {
  std::string ret = Join(list, ",");
  if (count > max) return ret + " + " + std::to_string(count - max) + " more...";
  return ret.empty() ? "<unset>" : ret;
}

constexpr Column kEndpointSliceColumns[] = {
    kNameCol,
    {"AddressType", "string", "", "Kind of addresses the slice holds: IPv4, IPv6 or FQDN.", 0},
    {"Ports", "string", "", "Ports of the slice, the first few of them.", 0},
    {"Endpoints", "string", "", "Endpoint addresses, the first few of them.", 0},
    kAgeCol,
};

PrintedRow PrintEndpointSlice(const json::object& o, const PrintContext& ctx) {
  constexpr size_t kMax = 3;
  std::vector<std::string> ports, addrs;
  size_t n_ports = 0, n_addrs = 0;
  if (const json::array* ps = api::FindArray(o, "ports")) {
    for (const json::value& v : *ps) {
      const json::object& p = api::AsObject(v);
      std::string s = api::Find(p, "port")   ? std::to_string(api::GetInt(p, "port"))
                      : api::Find(p, "name") ? api::GetString(p, "name")
                                             : "*";
      if (ports.size() < kMax) ports.push_back(s);
      ++n_ports;
    }
  }
  if (const json::array* eps = api::FindArray(o, "endpoints")) {
    for (const json::value& v : *eps) {
      for (const std::string& a : api::GetStrings(api::AsObject(v), "addresses")) {
        if (addrs.size() < kMax) addrs.push_back(a);
        ++n_addrs;
      }
    }
  }
  return Row({json::value(api::Name(o)), json::value(api::GetString(o, "addressType")),
              json::value(ListWithMore(ports, n_ports, kMax)), json::value(ListWithMore(addrs, n_addrs, kMax)),
              json::value(Age(o, ctx))});
}

constexpr Column kIngressColumns[] = {
    kNameCol,
    {"Class", "string", "", "The IngressClass that handles this ingress.", 0},
    {"Hosts", "string", "", "Host names the rules match, the first few of them.", 0},
    {"Address", "string", "", "Addresses of the load balancer serving the ingress.", 0},
    {"Ports", "string", "", "Ports the ingress serves (443 when TLS is configured).", 0},
    kAgeCol,
};

PrintedRow PrintIngress(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  constexpr size_t kMax = 3;
  std::vector<std::string> hosts;
  bool more = false;
  size_t n_rules = 0;
  if (const json::array* rules = api::FindArray(spec, "rules")) {
    n_rules = rules->size();
    for (const json::value& r : *rules) {
      if (hosts.size() == kMax) more = true;
      if (!more && !api::GetString(api::AsObject(r), "host").empty())
        hosts.push_back(api::GetString(api::AsObject(r), "host"));
    }
  }
  std::string host_text = hosts.empty() ? "*" : Join(hosts, ",");
  if (!hosts.empty() && more) host_text += " + " + std::to_string(n_rules - kMax) + " more...";
  std::string cls = api::Find(spec, "ingressClassName") ? api::GetString(spec, "ingressClassName") : "<none>";
  std::string ports = Size(spec, "tls") > 0 ? "80, 443" : "80";
  return Row({json::value(api::Name(o)), json::value(cls), json::value(host_text),
              json::value(LoadBalancerIngress(api::GetObject(o, {"status", "loadBalancer"}))), json::value(ports),
              json::value(Age(o, ctx))});
}

constexpr Column kIngressClassColumns[] = {
    kNameCol,
    {"Controller", "string", "", "The controller that implements this class.", 0},
    {"Parameters", "string", "", "Resource holding the class's extra configuration.", 0},
    kAgeCol,
};

PrintedRow PrintIngressClass(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  std::string params = "<none>";
  if (const json::object* p = api::FindObject(spec, "parameters")) {
    params = api::GetString(*p, "kind");
    if (api::Find(*p, "apiGroup")) params += "." + api::GetString(*p, "apiGroup");
    params += "/" + api::GetString(*p, "name");
  }
  return Row({json::value(api::Name(o)), json::value(api::GetString(spec, "controller")), json::value(params),
              json::value(Age(o, ctx))});
}

constexpr Column kNetworkPolicyColumns[] = {
    kNameCol,
    {"Pod-Selector", "string", "", "Pods the policy applies to.", 0},
    kAgeCol,
};

PrintedRow PrintNetworkPolicy(const json::object& o, const PrintContext& ctx) {
  const json::value* sel = api::Find(api::GetObject(o, "spec"), "podSelector");
  static const json::value kEmpty = json::object();  // podSelector is a struct, never nil, upstream
  return Row(
      {json::value(api::Name(o)), json::value(FormatLabelSelector(sel ? sel : &kEmpty)), json::value(Age(o, ctx))});
}

const PrinterEntry kNetworkingPrinters[] = {
    {"", "services", {kServiceColumns, PrintService}},
    {"", "endpoints", {kEndpointsColumns, PrintEndpoints}},
    {"discovery.k8s.io", "endpointslices", {kEndpointSliceColumns, PrintEndpointSlice}},
    {"networking.k8s.io", "ingresses", {kIngressColumns, PrintIngress}},
    {"networking.k8s.io", "ingressclasses", {kIngressClassColumns, PrintIngressClass}},
    {"networking.k8s.io", "networkpolicies", {kNetworkPolicyColumns, PrintNetworkPolicy}},
};

}  // namespace

std::span<const PrinterEntry> NetworkingPrinters() { return kNetworkingPrinters; }

}  // namespace kite::apiserver::tables
