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
std::string LoadBalancerIngress(const json::object* lb_status) {
  std::set<std::string> seen;
  if (const json::array* ing = Arr(lb_status, "ingress")) {
    for (const json::value& v : *ing) {
      std::string ip = Str(AsObj(v), "ip"), host = Str(AsObj(v), "hostname");
      if (!ip.empty()) {
        seen.insert(ip);
      } else if (!host.empty()) {
        seen.insert(host);
      }
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
  const json::object* spec = Obj(&o, "spec");
  std::string type = Str(spec, "type");
  if (type.empty()) type = "ClusterIP";
  // Conversion from v1 makes clusterIP the first of clusterIPs (it wins when the two disagree).
  std::string cluster_ip = Str(spec, "clusterIP");
  if (const json::array* ips = Arr(spec, "clusterIPs"); cluster_ip.empty() && ips && !ips->empty()) {
    cluster_ip = (*ips)[0].is_string() ? std::string((*ips)[0].get_string()) : "";
  }
  std::vector<std::string> external = Strings(Arr(spec, "externalIPs"));
  std::string external_ip;
  if (type == "ClusterIP" || type == "NodePort") {
    external_ip = external.empty() ? "<none>" : Join(external, ",");
  } else if (type == "LoadBalancer") {
    std::string lb = LoadBalancerIngress(ObjPath(&o, {"status", "loadBalancer"}));
    if (!external.empty()) {
      external_ip = lb.empty() ? Join(external, ",") : lb + "," + Join(external, ",");
    } else {
      external_ip = lb.empty() ? "<pending>" : lb;
    }
  } else if (type == "ExternalName") {
    external_ip = Str(spec, "externalName");
  } else {
    external_ip = "<unknown>";
  }
  std::vector<std::string> ports;
  if (const json::array* ps = Arr(spec, "ports")) {
    for (const json::value& v : *ps) {
      const json::object* p = AsObj(v);
      std::string proto = Str(p, "protocol");
      if (proto.empty()) proto = "TCP";
      int64_t node_port = Int(p, "nodePort");
      ports.push_back(std::to_string(Int(p, "port")) + (node_port > 0 ? ":" + std::to_string(node_port) : "") + "/" +
                      proto);
    }
  }
  return Row({json::value(Name(o)), json::value(type), json::value(NoneIfEmpty(cluster_ip)), json::value(external_ip),
              json::value(NoneIfEmpty(Join(ports, ","))), json::value(Age(o, ctx)),
              json::value(FormatLabels(Obj(spec, "selector")))});
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
  const json::array* subsets = Arr(&o, "subsets");
  std::string text = "<none>";
  if (subsets && !subsets->empty()) {
    constexpr size_t kMax = 3;
    std::vector<std::string> list;
    size_t count = 0;
    bool more = false;
    for (const json::value& sv : *subsets) {
      const json::object* ss = AsObj(sv);
      const json::array* addrs = Arr(ss, "addresses");
      const json::array* ports = Arr(ss, "ports");
      size_t n_addrs = addrs ? addrs->size() : 0;
      if (!ports || ports->empty()) {  // headless service without ports
        count += n_addrs;
        for (size_t i = 0; i < n_addrs; ++i) {
          if (list.size() == kMax) {
            more = true;
            break;
          }
          list.push_back(Str(AsObj((*addrs)[i]), "ip"));
        }
        continue;
      }
      for (const json::value& pv : *ports) {
        count += n_addrs;
        for (size_t i = 0; i < n_addrs; ++i) {
          if (list.size() == kMax) {
            more = true;
            break;
          }
          list.push_back(HostPort(Str(AsObj((*addrs)[i]), "ip"), Int(AsObj(pv), "port")));
        }
      }
    }
    text = Join(list, ",");
    if (more) text += " + " + std::to_string(count - kMax) + " more...";
  }
  return Row({json::value(Name(o)), json::value(text), json::value(Age(o, ctx))});
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
  if (const json::array* ps = Arr(&o, "ports")) {
    for (const json::value& v : *ps) {
      const json::object* p = AsObj(v);
      std::string s = Has(p, "port") ? std::to_string(Int(p, "port")) : Has(p, "name") ? Str(p, "name") : "*";
      if (ports.size() < kMax) ports.push_back(s);
      ++n_ports;
    }
  }
  if (const json::array* eps = Arr(&o, "endpoints")) {
    for (const json::value& v : *eps) {
      for (const std::string& a : Strings(Arr(AsObj(v), "addresses"))) {
        if (addrs.size() < kMax) addrs.push_back(a);
        ++n_addrs;
      }
    }
  }
  return Row({json::value(Name(o)), json::value(Str(&o, "addressType")),
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
  const json::object* spec = Obj(&o, "spec");
  constexpr size_t kMax = 3;
  std::vector<std::string> hosts;
  bool more = false;
  size_t n_rules = 0;
  if (const json::array* rules = Arr(spec, "rules")) {
    n_rules = rules->size();
    for (const json::value& r : *rules) {
      if (hosts.size() == kMax) more = true;
      if (!more && !Str(AsObj(r), "host").empty()) hosts.push_back(Str(AsObj(r), "host"));
    }
  }
  std::string host_text = hosts.empty() ? "*" : Join(hosts, ",");
  if (!hosts.empty() && more) host_text += " + " + std::to_string(n_rules - kMax) + " more...";
  std::string cls = Has(spec, "ingressClassName") ? Str(spec, "ingressClassName") : "<none>";
  std::string ports = Size(spec, "tls") > 0 ? "80, 443" : "80";
  return Row({json::value(Name(o)), json::value(cls), json::value(host_text),
              json::value(LoadBalancerIngress(ObjPath(&o, {"status", "loadBalancer"}))), json::value(ports),
              json::value(Age(o, ctx))});
}

constexpr Column kIngressClassColumns[] = {
    kNameCol,
    {"Controller", "string", "", "The controller that implements this class.", 0},
    {"Parameters", "string", "", "Resource holding the class's extra configuration.", 0},
    kAgeCol,
};

PrintedRow PrintIngressClass(const json::object& o, const PrintContext& ctx) {
  const json::object* spec = Obj(&o, "spec");
  std::string params = "<none>";
  if (const json::object* p = Obj(spec, "parameters")) {
    params = Str(p, "kind");
    if (Has(p, "apiGroup")) params += "." + Str(p, "apiGroup");
    params += "/" + Str(p, "name");
  }
  return Row({json::value(Name(o)), json::value(Str(spec, "controller")), json::value(params),
              json::value(Age(o, ctx))});
}

constexpr Column kNetworkPolicyColumns[] = {
    kNameCol,
    {"Pod-Selector", "string", "", "Pods the policy applies to.", 0},
    kAgeCol,
};

PrintedRow PrintNetworkPolicy(const json::object& o, const PrintContext& ctx) {
  const json::value* sel = Member(Obj(&o, "spec"), "podSelector");
  static const json::value kEmpty = json::object();  // podSelector is a struct, never nil, upstream
  return Row({json::value(Name(o)), json::value(FormatLabelSelector(sel ? sel : &kEmpty)), json::value(Age(o, ctx))});
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
  const json::object* status = Obj(&o, "status");
  const json::object* info = Obj(status, "nodeInfo");
  std::vector<std::string> state;
  const json::object* ready = nullptr;  // the last Ready condition, as upstream's map keeps it
  if (const json::array* conds = Arr(status, "conditions")) {
    for (const json::value& c : *conds) {
      if (Str(AsObj(c), "type") == "Ready") ready = AsObj(c);
    }
  }
  if (ready) state.push_back(Str(ready, "status") == "True" ? "Ready" : "NotReady");
  if (state.empty()) state.push_back("Unknown");
  if (Bool(Obj(&o, "spec"), "unschedulable")) state.push_back("SchedulingDisabled");

  std::set<std::string> roles;
  if (const json::object* labels = Obj(Meta(o), "labels")) {
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
    if (const json::array* addrs = Arr(status, "addresses")) {
      for (const json::value& a : *addrs) {
        if (Str(AsObj(a), "type") == type) return Str(AsObj(a), "address");
      }
    }
    return std::string("<none>");
  };
  auto unknown_if_empty = [](std::string s) { return s.empty() ? std::string("<unknown>") : s; };
  return Row({json::value(Name(o)), json::value(Join(state, ",")),
              json::value(NoneIfEmpty(Join(std::vector<std::string>(roles.begin(), roles.end()), ","))),
              json::value(Age(o, ctx)), json::value(Str(info, "kubeletVersion")), json::value(address("InternalIP")),
              json::value(address("ExternalIP")), json::value(unknown_if_empty(Str(info, "osImage"))),
              json::value(unknown_if_empty(Str(info, "kernelVersion"))),
              json::value(unknown_if_empty(Str(info, "containerRuntimeVersion")))});
}

constexpr Column kNamespaceColumns[] = {
    kNameCol,
    {"Status", "string", "", "Active, or Terminating while the namespace is being deleted.", 0},
    kAgeCol,
};

PrintedRow PrintNamespace(const json::object& o, const PrintContext& ctx) {
  std::string phase = Str(Obj(&o, "status"), "phase");
  if (phase.empty()) phase = Deleting(o) ? "Terminating" : "Active";  // upstream sets it on create/delete
  return Row({json::value(Name(o)), json::value(phase), json::value(Age(o, ctx))});
}

constexpr Column kConfigMapColumns[] = {
    kNameCol,
    {"Data", "string", "", "Number of keys in data and binaryData.", 0},
    kAgeCol,
};

PrintedRow PrintConfigMap(const json::object& o, const PrintContext& ctx) {
  return Row({json::value(Name(o)), json::value(static_cast<int64_t>(Size(&o, "data") + Size(&o, "binaryData"))),
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
    if (const json::object* d = Obj(&o, member)) {
      for (const auto& kv : *d) keys.insert(std::string(kv.key()));
    }
  }
  std::string type = Str(&o, "type");
  return Row({json::value(Name(o)), json::value(type.empty() ? "Opaque" : type),
              json::value(static_cast<int64_t>(keys.size())), json::value(Age(o, ctx))});
}

constexpr Column kServiceAccountColumns[] = {
    kNameCol,
    {"Secrets", "string", "", "Number of secrets listed for the service account.", 0},
    kAgeCol,
};

PrintedRow PrintServiceAccount(const json::object& o, const PrintContext& ctx) {
  return Row({json::value(Name(o)), json::value(static_cast<int64_t>(Size(&o, "secrets"))), json::value(Age(o, ctx))});
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
  const json::object* involved = Obj(&o, field("involvedObject", "regarding"));
  const json::object* source = Obj(&o, field("source", "deprecatedSource"));
  const json::value* first_ts = Member(&o, field("firstTimestamp", "deprecatedFirstTimestamp"));
  const json::value* last_ts = Member(&o, field("lastTimestamp", "deprecatedLastTimestamp"));
  const json::object* series = Obj(&o, "series");

  std::string first = ZeroTime(first_ts) ? AgeOf(Member(&o, "eventTime"), ctx.now) : AgeOf(first_ts, ctx.now);
  std::string last = ZeroTime(last_ts) ? first : AgeOf(last_ts, ctx.now);
  int64_t count = Int(&o, field("count", "deprecatedCount"));
  if (series) {
    last = AgeOf(Member(series, "lastObservedTime"), ctx.now);
    count = Int(series, "count");
  } else if (count == 0) {
    count = 1;  // singleton events of the new API carry no count
  }
  std::string kind = ToLower(Str(involved, "kind"));
  std::string target = Str(involved, "name").empty() ? kind : kind + "/" + Str(involved, "name");
  std::string component =
      FirstNonEmpty(Str(source, "component"), Str(&o, field("reportingComponent", "reportingController")));
  std::string instance = FirstNonEmpty(Str(source, "host"), Str(&o, "reportingInstance"));
  std::string src = instance.empty() ? component : component + ", " + instance;
  return Row({json::value(last), json::value(Str(&o, "type")), json::value(Str(&o, "reason")), json::value(target),
              json::value(Str(involved, "fieldPath")), json::value(src),
              json::value(TrimSpace(Str(&o, field("message", "note")))), json::value(first), json::value(count),
              json::value(Name(o))});
}

// ---- storage -------------------------------------------------------------------------------------

std::string AccessModes(const json::array* modes) {
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
  const json::object* spec = Obj(&o, "spec");
  const json::object* status = Obj(&o, "status");
  std::string claim;
  if (const json::object* ref = Obj(spec, "claimRef")) claim = Str(ref, "namespace") + "/" + Str(ref, "name");
  // Defaulting: phase Pending, reclaim policy Retain, volume mode Filesystem.
  std::string phase = Deleting(o) ? "Terminating" : Str(status, "phase");
  if (phase.empty()) phase = "Pending";
  std::string reclaim = Str(spec, "persistentVolumeReclaimPolicy");
  if (reclaim.empty()) reclaim = "Retain";
  const json::object* annotations = Obj(Meta(o), "annotations");
  std::string cls = Has(annotations, kBetaStorageClassAnnotation) ? Str(annotations, kBetaStorageClassAnnotation)
                                                                  : Str(spec, "storageClassName");
  std::string vac = Has(spec, "volumeAttributesClassName") ? Str(spec, "volumeAttributesClassName") : "<unset>";
  std::string mode = Has(spec, "volumeMode") ? Str(spec, "volumeMode") : "Filesystem";
  return Row({json::value(Name(o)), json::value(QuantityString(Member(Obj(spec, "capacity"), "storage"))),
              json::value(AccessModes(Arr(spec, "accessModes"))), json::value(reclaim), json::value(phase),
              json::value(claim),
              json::value(cls), json::value(vac), json::value(Str(status, "reason")), json::value(Age(o, ctx)),
              json::value(mode)});
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
  const json::object* spec = Obj(&o, "spec");
  const json::object* status = Obj(&o, "status");
  std::string phase = Deleting(o) ? "Terminating" : Str(status, "phase");
  if (phase.empty()) phase = "Pending";  // defaulting, as the volume mode below
  std::string capacity, modes;
  if (!Str(spec, "volumeName").empty()) {
    modes = AccessModes(Arr(status, "accessModes"));
    capacity = QuantityString(Member(Obj(status, "capacity"), "storage"));
  }
  const json::object* annotations = Obj(Meta(o), "annotations");
  std::string cls = Has(annotations, kBetaStorageClassAnnotation) ? Str(annotations, kBetaStorageClassAnnotation)
                                                                  : Str(spec, "storageClassName");
  std::string vac = Has(spec, "volumeAttributesClassName") ? Str(spec, "volumeAttributesClassName") : "<unset>";
  std::string mode = Has(spec, "volumeMode") ? Str(spec, "volumeMode") : "Filesystem";
  return Row({json::value(Name(o)), json::value(phase), json::value(Str(spec, "volumeName")), json::value(capacity),
              json::value(modes), json::value(cls), json::value(vac), json::value(Age(o, ctx)), json::value(mode)});
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
  const json::object* annotations = Obj(Meta(o), "annotations");
  std::string name = Name(o);
  if (Str(annotations, "storageclass.kubernetes.io/is-default-class") == "true" ||
      Str(annotations, "storageclass.beta.kubernetes.io/is-default-class") == "true") {
    name += " (default)";
  }
  std::string reclaim = Has(&o, "reclaimPolicy") ? Str(&o, "reclaimPolicy") : "Delete";
  std::string binding = Has(&o, "volumeBindingMode") ? Str(&o, "volumeBindingMode") : "Immediate";
  return Row({json::value(name), json::value(Str(&o, "provisioner")), json::value(reclaim), json::value(binding),
              json::value(Bool(&o, "allowVolumeExpansion")), json::value(Age(o, ctx))});
}

// ---- policy, quota, scheduling, coordination, RBAC ---------------------------------------------------

constexpr Column kResourceQuotaColumns[] = {
    kNameCol,
    {"Request", "string", "", "Used/hard amounts of the quota's request (non-limits) resources.", 0},
    {"Limit", "string", "", "Used/hard amounts of the quota's limits.* resources.", 0},
    kAgeCol,
};

PrintedRow PrintResourceQuota(const json::object& o, const PrintContext& ctx) {
  const json::object* status = Obj(&o, "status");
  const json::object* hard = Obj(status, "hard");
  const json::object* used = Obj(status, "used");
  std::vector<std::string> names;
  if (hard) {
    for (const auto& kv : *hard) names.push_back(std::string(kv.key()));
  }
  std::sort(names.begin(), names.end());
  std::vector<std::string> request, limit;
  for (const std::string& n : names) {
    std::string entry = n + ": " + QuantityString(Member(used, n)) + "/" + QuantityString(Member(hard, n));
    bool is_limit = n.starts_with("limits.");
    (is_limit ? limit : request).push_back(std::move(entry));
  }
  return Row({json::value(Name(o)), json::value(Join(request, ", ")), json::value(Join(limit, ", ")),
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
  const json::object* spec = Obj(&o, "spec");
  std::string min = Has(spec, "minAvailable") ? IntOrString(Member(spec, "minAvailable")) : "N/A";
  std::string max = Has(spec, "maxUnavailable") ? IntOrString(Member(spec, "maxUnavailable")) : "N/A";
  return Row({json::value(Name(o)), json::value(min), json::value(max),
              json::value(Int(Obj(&o, "status"), "disruptionsAllowed")), json::value(Age(o, ctx))});
}

constexpr Column kPriorityClassColumns[] = {
    kNameCol,
    {"Value", "integer", "", "Priority of pods using this class; higher runs first.", 0},
    {"Global-Default", "boolean", "", "Whether pods without a class get this one.", 0},
    kAgeCol,
    {"PreemptionPolicy", "string", "", "Whether pods of this class may preempt lower-priority pods.", 0},
};

PrintedRow PrintPriorityClass(const json::object& o, const PrintContext& ctx) {
  std::string preemption = Has(&o, "preemptionPolicy") ? Str(&o, "preemptionPolicy") : "PreemptLowerPriority";
  return Row({json::value(Name(o)), json::value(Int(&o, "value")), json::value(Bool(&o, "globalDefault")),
              json::value(Age(o, ctx)), json::value(preemption)});
}

constexpr Column kLeaseColumns[] = {
    kNameCol,
    {"Holder", "string", "", "Identity of the current holder of the lease.", 0},
    kAgeCol,
};

PrintedRow PrintLease(const json::object& o, const PrintContext& ctx) {
  return Row({json::value(Name(o)), json::value(Str(Obj(&o, "spec"), "holderIdentity")), json::value(Age(o, ctx))});
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
  const json::object* ref = Obj(&o, "roleRef");
  std::vector<std::string> users, groups, sas;
  if (const json::array* subjects = Arr(&o, "subjects")) {
    for (const json::value& v : *subjects) {
      const json::object* s = AsObj(v);
      std::string kind = Str(s, "kind");
      if (kind == "ServiceAccount") {
        sas.push_back(Str(s, "namespace") + "/" + Str(s, "name"));
      } else if (kind == "User") {
        users.push_back(Str(s, "name"));
      } else if (kind == "Group") {
        groups.push_back(Str(s, "name"));
      }
    }
  }
  return Row({json::value(Name(o)), json::value(Str(ref, "kind") + "/" + Str(ref, "name")), json::value(Age(o, ctx)),
              json::value(Join(users, ", ")), json::value(Join(groups, ", ")), json::value(Join(sas, ", "))});
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