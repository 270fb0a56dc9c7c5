// Per-kind Table printers for services and networking, nodes, namespaces, config and secrets,
// events, storage, quota, policy, scheduling, leases and RBAC bindings (pods and workload kinds are
// in tables_workloads.cc): the columns and cell values of upstream's printers
// (kubernetes pkg/printers/internalversion), written against kite's stored JSON. Upstream prints
// its internal types, so where the versioned JSON differs (service cluster IPs,
// events.k8s.io events) the JSON is read the way conversion would fill the
// internal object, and fields upstream defaults before storage are read with their defaults.
#include <algorithm>
#include <set>

#include "server/apiserver/printers/tables_kinds.h"

namespace kite::apiserver::tables {
namespace {

// ---- helpers used only here ---------------------------------------------------------------------

std::string TrimSpace(std::string_view s) {
  const char* ws = " \t\n\r\v\f";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(ws) - b + 1));
}

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

// ---- services and networking -----------------------------------------------------------------------

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
  std::vector<std::string> external = Strings(api::GetArray(spec, "externalIPs"));
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
      for (const std::string& a : Strings(api::GetArray(api::AsObject(v), "addresses"))) {
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

// ---- nodes, namespaces and other core kinds --------------------------------------------------------

constexpr Column kNodeColumns[] = {
    kNameCol,
    {"Status", "string", "", "Ready, NotReady or Unknown, plus SchedulingDisabled when cordoned.", 0},
    {"Roles", "string", "", "Roles from the node's node-role.kubernetes.io/* labels.", 0},
    kAgeCol,
    {"Version", "string", "", "Kubelet version.", 0},
    {"Internal-IP", "string", "", "The node's InternalIP address.", 1},
    {"External-IP", "string", "", "The node's ExternalIP address.", 1},
    {"OS-Image", "string", "", "Operating system image reported by the node.", 1},
    {"Kernel-Version", "string", "", "Kernel version reported by the node.", 1},
    {"Container-Runtime", "string", "", "Container runtime and version reported by the node.", 1},
};

PrintedRow PrintNode(const json::object& o, const PrintContext& ctx) {
  const json::object& status = api::GetObject(o, "status");
  const json::object& info = api::GetObject(status, "nodeInfo");
  std::vector<std::string> state;
  const json::object* ready = nullptr;  // the last Ready condition, as upstream's map keeps it
  if (const json::array* conds = api::FindArray(status, "conditions")) {
    for (const json::value& c : *conds) {
      if (api::GetString(api::AsObject(c), "type") == "Ready") ready = c.if_object();
    }
  }
  if (ready) state.push_back(api::GetString(*ready, "status") == "True" ? "Ready" : "NotReady");
  if (state.empty()) state.push_back("Unknown");
  if (api::GetBool(api::GetObject(o, "spec"), "unschedulable")) state.push_back("SchedulingDisabled");

  std::set<std::string> roles;
  if (const json::object* labels = api::FindObject(api::Metadata(o), "labels")) {
    constexpr std::string_view kPrefix = "node-role.kubernetes.io/";
    for (const auto& kv : *labels) {
      std::string_view k = kv.key();
      if (k.starts_with(kPrefix) && k.size() > kPrefix.size()) {
        roles.insert(std::string(k.substr(kPrefix.size())));
      } else if (k == "kubernetes.io/role" && kv.value().is_string() && !kv.value().get_string().empty()) {
        roles.insert(std::string(kv.value().get_string()));
      }
    }
  }
  auto address = [&](std::string_view type) {
    if (const json::array* addrs = api::FindArray(status, "addresses")) {
      for (const json::value& a : *addrs) {
        if (api::GetString(api::AsObject(a), "type") == type) return api::GetString(api::AsObject(a), "address");
      }
    }
    return std::string("<none>");
  };
  auto unknown_if_empty = [](std::string s) { return s.empty() ? std::string("<unknown>") : s; };
  return Row({json::value(api::Name(o)), json::value(Join(state, ",")),
              json::value(NoneIfEmpty(Join(std::vector<std::string>(roles.begin(), roles.end()), ","))),
              json::value(Age(o, ctx)), json::value(api::GetString(info, "kubeletVersion")),
              json::value(address("InternalIP")), json::value(address("ExternalIP")),
              json::value(unknown_if_empty(api::GetString(info, "osImage"))),
              json::value(unknown_if_empty(api::GetString(info, "kernelVersion"))),
              json::value(unknown_if_empty(api::GetString(info, "containerRuntimeVersion")))});
}

constexpr Column kNamespaceColumns[] = {
    kNameCol,
    {"Status", "string", "", "Active, or Terminating while the namespace is being deleted.", 0},
    kAgeCol,
};

PrintedRow PrintNamespace(const json::object& o, const PrintContext& ctx) {
  std::string phase = api::GetString(api::GetObject(o, "status"), "phase");
  if (phase.empty()) phase = api::IsBeingDeleted(o) ? "Terminating" : "Active";  // upstream sets it on create/delete
  return Row({json::value(api::Name(o)), json::value(phase), json::value(Age(o, ctx))});
}

constexpr Column kConfigMapColumns[] = {
    kNameCol,
    {"Data", "string", "", "Number of keys in data and binaryData.", 0},
    kAgeCol,
};

PrintedRow PrintConfigMap(const json::object& o, const PrintContext& ctx) {
  return Row({json::value(api::Name(o)), json::value(static_cast<int64_t>(Size(o, "data") + Size(o, "binaryData"))),
              json::value(Age(o, ctx))});
}

constexpr Column kSecretColumns[] = {
    kNameCol,
    {"Type", "string", "", "The secret's type, e.g. Opaque or kubernetes.io/tls.", 0},
    {"Data", "string", "", "Number of keys in the secret.", 0},
    kAgeCol,
};

PrintedRow PrintSecret(const json::object& o, const PrintContext& ctx) {
  // Conversion merges stringData into data.
  std::set<std::string> keys;
  for (const char* member : {"data", "stringData"}) {
    if (const json::object* d = api::FindObject(o, member)) {
      for (const auto& kv : *d) keys.insert(std::string(kv.key()));
    }
  }
  std::string type = api::GetString(o, "type");
  return Row({json::value(api::Name(o)), json::value(type.empty() ? "Opaque" : type),
              json::value(static_cast<int64_t>(keys.size())), json::value(Age(o, ctx))});
}

constexpr Column kServiceAccountColumns[] = {
    kNameCol,
    {"Secrets", "string", "", "Number of secrets listed for the service account.", 0},
    kAgeCol,
};

PrintedRow PrintServiceAccount(const json::object& o, const PrintContext& ctx) {
  return Row(
      {json::value(api::Name(o)), json::value(static_cast<int64_t>(Size(o, "secrets"))), json::value(Age(o, ctx))});
}

// ---- events ------------------------------------------------------------------------------------------

constexpr Column kEventColumns[] = {
    {"Last Seen", "string", "", "Time since the event was last observed.", 0},
    {"Type", "string", "", "Normal or Warning.", 0},
    {"Reason", "string", "", "Short machine-readable reason for the event.", 0},
    {"Object", "string", "", "The object the event is about (kind/name).", 0},
    {"Subobject", "string", "", "The part of the object the event is about, e.g. a container.", 1},
    {"Source", "string", "", "Component (and host) that reported the event.", 1},
    {"Message", "string", "", "Human-readable description of the event.", 0},
    {"First Seen", "string", "", "Time since the event was first observed.", 1},
    {"Count", "string", "", "Number of times the event occurred.", 1},
    {"Name", "string", "name", "Name of the event object.", 1},
};

bool ZeroTime(const json::value* v) {
  if (!v || !v->is_string()) return true;
  auto t = api::ParseRfc3339(v->get_string());
  return !t || IsGoZeroTime(*t);
}
std::string FirstNonEmpty(const std::string& a, const std::string& b) { return a.empty() ? b : a; }

// core/v1 Event and events.k8s.io/v1 Event: the latter's fields are converted to the former's.
PrintedRow PrintEvent(const json::object& o, const PrintContext& ctx) {
  const bool v1_events = ctx.resource && ctx.resource->group == "events.k8s.io";
  auto field = [&](const char* core, const char* events_api) { return v1_events ? events_api : core; };
  const json::object& involved = api::GetObject(o, field("involvedObject", "regarding"));
  const json::object& source = api::GetObject(o, field("source", "deprecatedSource"));
  const json::value* first_ts = api::Find(o, field("firstTimestamp", "deprecatedFirstTimestamp"));
  const json::value* last_ts = api::Find(o, field("lastTimestamp", "deprecatedLastTimestamp"));
  const json::object* series = api::FindObject(o, "series");

  std::string first = ZeroTime(first_ts) ? AgeOf(api::Find(o, "eventTime"), ctx.now) : AgeOf(first_ts, ctx.now);
  std::string last = ZeroTime(last_ts) ? first : AgeOf(last_ts, ctx.now);
  int64_t count = api::GetInt(o, field("count", "deprecatedCount"));
  if (series) {
    last = AgeOf(api::Find(*series, "lastObservedTime"), ctx.now);
    count = api::GetInt(*series, "count");
  } else if (count == 0) {
    count = 1;  // singleton events of the new API carry no count
  }
  std::string kind = ToLower(api::GetString(involved, "kind"));
  std::string target = api::GetString(involved, "name").empty() ? kind : kind + "/" + api::GetString(involved, "name");
  std::string component = FirstNonEmpty(api::GetString(source, "component"),
                                        api::GetString(o, field("reportingComponent", "reportingController")));
  std::string instance = FirstNonEmpty(api::GetString(source, "host"), api::GetString(o, "reportingInstance"));
  std::string src = instance.empty() ? component : component + ", " + instance;
  return Row({json::value(last), json::value(api::GetString(o, "type")), json::value(api::GetString(o, "reason")),
              json::value(target), json::value(api::GetString(involved, "fieldPath")), json::value(src),
              json::value(TrimSpace(api::GetString(o, field("message", "note")))), json::value(first),
              json::value(count), json::value(api::Name(o))});
}

// ---- storage -------------------------------------------------------------------------------------

std::string AccessModes(const json::array& modes) {
  std::vector<std::string> m = Strings(modes);
  auto has = [&](std::string_view s) { return std::find(m.begin(), m.end(), s) != m.end(); };
  std::vector<std::string> out;
  if (has("ReadWriteOnce")) out.push_back("RWO");
  if (has("ReadOnlyMany")) out.push_back("ROX");
  if (has("ReadWriteMany")) out.push_back("RWX");
  if (has("ReadWriteOncePod")) out.push_back("RWOP");
  return Join(out, ",");
}

constexpr std::string_view kBetaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class";

constexpr Column kPersistentVolumeColumns[] = {
    kNameCol,
    {"Capacity", "string", "", "Storage capacity of the volume.", 0},
    {"Access Modes", "string", "", "How the volume can be mounted (RWO, ROX, RWX, RWOP).", 0},
    {"Reclaim Policy", "string", "", "What happens to the volume when its claim is released.", 0},
    {"Status", "string", "", "Phase of the volume: Available, Bound, Released, Failed.", 0},
    {"Claim", "string", "", "The claim (namespace/name) bound to the volume.", 0},
    {"StorageClass", "string", "", "Storage class of the volume.", 0},
    {"VolumeAttributesClass", "string", "", "Volume attributes class of the volume.", 0},
    {"Reason", "string", "", "Why the volume is in its phase, if reported.", 0},
    kAgeCol,
    {"VolumeMode", "string", "", "Filesystem or Block.", 1},
};

PrintedRow PrintPersistentVolume(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  const json::object& status = api::GetObject(o, "status");
  std::string claim;
  if (const json::object* ref = api::FindObject(spec, "claimRef"))
    claim = api::GetString(*ref, "namespace") + "/" + api::GetString(*ref, "name");
  // Defaulting: phase Pending, reclaim policy Retain, volume mode Filesystem.
  std::string phase = api::IsBeingDeleted(o) ? "Terminating" : api::GetString(status, "phase");
  if (phase.empty()) phase = "Pending";
  std::string reclaim = api::GetString(spec, "persistentVolumeReclaimPolicy");
  if (reclaim.empty()) reclaim = "Retain";
  const json::object& annotations = api::GetObject(api::Metadata(o), "annotations");
  std::string cls = api::Find(annotations, kBetaStorageClassAnnotation)
                        ? api::GetString(annotations, kBetaStorageClassAnnotation)
                        : api::GetString(spec, "storageClassName");
  std::string vac =
      api::Find(spec, "volumeAttributesClassName") ? api::GetString(spec, "volumeAttributesClassName") : "<unset>";
  std::string mode = api::Find(spec, "volumeMode") ? api::GetString(spec, "volumeMode") : "Filesystem";
  return Row({json::value(api::Name(o)),
              json::value(QuantityString(api::Find(api::GetObject(spec, "capacity"), "storage"))),
              json::value(AccessModes(api::GetArray(spec, "accessModes"))), json::value(reclaim), json::value(phase),
              json::value(claim), json::value(cls), json::value(vac), json::value(api::GetString(status, "reason")),
              json::value(Age(o, ctx)), json::value(mode)});
}

constexpr Column kPersistentVolumeClaimColumns[] = {
    kNameCol,
    {"Status", "string", "", "Phase of the claim: Pending, Bound or Lost.", 0},
    {"Volume", "string", "", "The volume bound to the claim.", 0},
    {"Capacity", "string", "", "Storage capacity of the bound volume.", 0},
    {"Access Modes", "string", "", "Access modes of the bound volume (RWO, ROX, RWX, RWOP).", 0},
    {"StorageClass", "string", "", "Storage class the claim asks for.", 0},
    {"VolumeAttributesClass", "string", "", "Volume attributes class the claim asks for.", 0},
    kAgeCol,
    {"VolumeMode", "string", "", "Filesystem or Block.", 1},
};

PrintedRow PrintPersistentVolumeClaim(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  const json::object& status = api::GetObject(o, "status");
  std::string phase = api::IsBeingDeleted(o) ? "Terminating" : api::GetString(status, "phase");
  if (phase.empty()) phase = "Pending";  // defaulting, as the volume mode below
  std::string capacity, modes;
  if (!api::GetString(spec, "volumeName").empty()) {
    modes = AccessModes(api::GetArray(status, "accessModes"));
    capacity = QuantityString(api::Find(api::GetObject(status, "capacity"), "storage"));
  }
  const json::object& annotations = api::GetObject(api::Metadata(o), "annotations");
  std::string cls = api::Find(annotations, kBetaStorageClassAnnotation)
                        ? api::GetString(annotations, kBetaStorageClassAnnotation)
                        : api::GetString(spec, "storageClassName");
  std::string vac =
      api::Find(spec, "volumeAttributesClassName") ? api::GetString(spec, "volumeAttributesClassName") : "<unset>";
  std::string mode = api::Find(spec, "volumeMode") ? api::GetString(spec, "volumeMode") : "Filesystem";
  return Row({json::value(api::Name(o)), json::value(phase), json::value(api::GetString(spec, "volumeName")),
              json::value(capacity), json::value(modes), json::value(cls), json::value(vac), json::value(Age(o, ctx)),
              json::value(mode)});
}

constexpr Column kStorageClassColumns[] = {
    kNameCol,
    {"Provisioner", "string", "", "The volume plugin that provisions volumes of this class.", 0},
    {"ReclaimPolicy", "string", "", "Reclaim policy of volumes provisioned for this class.", 0},
    {"VolumeBindingMode", "string", "", "When volumes are bound: Immediate or WaitForFirstConsumer.", 0},
    {"AllowVolumeExpansion", "string", "", "Whether claims of this class may be resized.", 0},
    kAgeCol,
};

PrintedRow PrintStorageClass(const json::object& o, const PrintContext& ctx) {
  const json::object& annotations = api::GetObject(api::Metadata(o), "annotations");
  std::string name = api::Name(o);
  if (api::GetString(annotations, "storageclass.kubernetes.io/is-default-class") == "true" ||
      api::GetString(annotations, "storageclass.beta.kubernetes.io/is-default-class") == "true") {
    name += " (default)";
  }
  std::string reclaim = api::Find(o, "reclaimPolicy") ? api::GetString(o, "reclaimPolicy") : "Delete";
  std::string binding = api::Find(o, "volumeBindingMode") ? api::GetString(o, "volumeBindingMode") : "Immediate";
  return Row({json::value(name), json::value(api::GetString(o, "provisioner")), json::value(reclaim),
              json::value(binding), json::value(api::GetBool(o, "allowVolumeExpansion")), json::value(Age(o, ctx))});
}

// ---- policy, quota, scheduling, coordination, RBAC ---------------------------------------------------

constexpr Column kResourceQuotaColumns[] = {
    kNameCol,
    {"Request", "string", "", "Used/hard amounts of the quota's request (non-limits) resources.", 0},
    {"Limit", "string", "", "Used/hard amounts of the quota's limits.* resources.", 0},
    kAgeCol,
};

PrintedRow PrintResourceQuota(const json::object& o, const PrintContext& ctx) {
  const json::object& status = api::GetObject(o, "status");
  const json::object& hard = api::GetObject(status, "hard");
  const json::object& used = api::GetObject(status, "used");
  std::vector<std::string> names;
  for (const auto& kv : hard) names.push_back(std::string(kv.key()));
  std::sort(names.begin(), names.end());
  std::vector<std::string> request, limit;
  for (const std::string& n : names) {
    std::string entry = n + ": " + QuantityString(api::Find(used, n)) + "/" + QuantityString(api::Find(hard, n));
    bool is_limit = n.starts_with("limits.");
    (is_limit ? limit : request).push_back(std::move(entry));
  }
  return Row({json::value(api::Name(o)), json::value(Join(request, ", ")), json::value(Join(limit, ", ")),
              json::value(Age(o, ctx))});
}

constexpr Column kPodDisruptionBudgetColumns[] = {
    kNameCol,
    {"Min Available", "string", "", "Pods that must stay available during voluntary disruptions.", 0},
    {"Max Unavailable", "string", "", "Pods that may be unavailable during voluntary disruptions.", 0},
    {"Allowed Disruptions", "integer", "", "How many pods may be disrupted right now.", 0},
    kAgeCol,
};

PrintedRow PrintPodDisruptionBudget(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  std::string min = api::Find(spec, "minAvailable") ? IntOrString(api::Find(spec, "minAvailable")) : "N/A";
  std::string max = api::Find(spec, "maxUnavailable") ? IntOrString(api::Find(spec, "maxUnavailable")) : "N/A";
  return Row({json::value(api::Name(o)), json::value(min), json::value(max),
              json::value(api::GetInt(api::GetObject(o, "status"), "disruptionsAllowed")), json::value(Age(o, ctx))});
}

constexpr Column kPriorityClassColumns[] = {
    kNameCol,
    {"Value", "integer", "", "Priority of pods using this class; higher runs first.", 0},
    {"Global-Default", "boolean", "", "Whether pods without a class get this one.", 0},
    kAgeCol,
    {"PreemptionPolicy", "string", "", "Whether pods of this class may preempt lower-priority pods.", 0},
};

PrintedRow PrintPriorityClass(const json::object& o, const PrintContext& ctx) {
  std::string preemption =
      api::Find(o, "preemptionPolicy") ? api::GetString(o, "preemptionPolicy") : "PreemptLowerPriority";
  return Row({json::value(api::Name(o)), json::value(api::GetInt(o, "value")),
              json::value(api::GetBool(o, "globalDefault")), json::value(Age(o, ctx)), json::value(preemption)});
}

constexpr Column kLeaseColumns[] = {
    kNameCol,
    {"Holder", "string", "", "Identity of the current holder of the lease.", 0},
    kAgeCol,
};

PrintedRow PrintLease(const json::object& o, const PrintContext& ctx) {
  return Row({json::value(api::Name(o)), json::value(api::GetString(api::GetObject(o, "spec"), "holderIdentity")),
              json::value(Age(o, ctx))});
}

constexpr Column kRoleBindingColumns[] = {
    kNameCol,
    {"Role", "string", "", "The role granted (Kind/name).", 0},
    kAgeCol,
    {"Users", "string", "", "Users bound.", 1},
    {"Groups", "string", "", "Groups bound.", 1},
    {"ServiceAccounts", "string", "", "Service accounts bound (namespace/name).", 1},
};

PrintedRow PrintRoleBinding(const json::object& o, const PrintContext& ctx) {
  const json::object& ref = api::GetObject(o, "roleRef");
  std::vector<std::string> users, groups, sas;
  if (const json::array* subjects = api::FindArray(o, "subjects")) {
    for (const json::value& v : *subjects) {
      const json::object& s = api::AsObject(v);
      std::string kind = api::GetString(s, "kind");
      if (kind == "ServiceAccount") {
        sas.push_back(api::GetString(s, "namespace") + "/" + api::GetString(s, "name"));
      } else if (kind == "User") {
        users.push_back(api::GetString(s, "name"));
      } else if (kind == "Group") {
        groups.push_back(api::GetString(s, "name"));
      }
    }
  }
  return Row({json::value(api::Name(o)), json::value(api::GetString(ref, "kind") + "/" + api::GetString(ref, "name")),
              json::value(Age(o, ctx)), json::value(Join(users, ", ")), json::value(Join(groups, ", ")),
              json::value(Join(sas, ", "))});
}

// ---- the registry of printers --------------------------------------------------------------------

const PrinterEntry kPrinters[] = {
    {"", "services", {kServiceColumns, PrintService}},
    {"", "endpoints", {kEndpointsColumns, PrintEndpoints}},
    {"", "nodes", {kNodeColumns, PrintNode}},
    {"", "events", {kEventColumns, PrintEvent}},
    {"", "namespaces", {kNamespaceColumns, PrintNamespace}},
    {"", "secrets", {kSecretColumns, PrintSecret}},
    {"", "serviceaccounts", {kServiceAccountColumns, PrintServiceAccount}},
    {"", "persistentvolumes", {kPersistentVolumeColumns, PrintPersistentVolume}},
    {"", "persistentvolumeclaims", {kPersistentVolumeClaimColumns, PrintPersistentVolumeClaim}},
    {"", "configmaps", {kConfigMapColumns, PrintConfigMap}},
    {"", "resourcequotas", {kResourceQuotaColumns, PrintResourceQuota}},
    {"coordination.k8s.io", "leases", {kLeaseColumns, PrintLease}},
    {"discovery.k8s.io", "endpointslices", {kEndpointSliceColumns, PrintEndpointSlice}},
    {"events.k8s.io", "events", {kEventColumns, PrintEvent}},
    {"networking.k8s.io", "ingresses", {kIngressColumns, PrintIngress}},
    {"networking.k8s.io", "ingressclasses", {kIngressClassColumns, PrintIngressClass}},
    {"networking.k8s.io", "networkpolicies", {kNetworkPolicyColumns, PrintNetworkPolicy}},
    {"policy", "poddisruptionbudgets", {kPodDisruptionBudgetColumns, PrintPodDisruptionBudget}},
    {"rbac.authorization.k8s.io", "rolebindings", {kRoleBindingColumns, PrintRoleBinding}},
    {"rbac.authorization.k8s.io", "clusterrolebindings", {kRoleBindingColumns, PrintRoleBinding}},
    {"scheduling.k8s.io", "priorityclasses", {kPriorityClassColumns, PrintPriorityClass}},
    {"storage.k8s.io", "storageclasses", {kStorageClassColumns, PrintStorageClass}},
};

}  // namespace

const Printer* FindPrinter(std::string_view group, std::string_view resource) {
  for (std::span<const PrinterEntry> entries :
       {std::span<const PrinterEntry>(kPrinters), WorkloadPrinters(), CertificatePrinters()}) {
    for (const PrinterEntry& e : entries) {
      if (e.group == group && e.resource == resource) return &e.printer;
    }
  }
  return nullptr;
}

}  // namespace kite::apiserver::tables