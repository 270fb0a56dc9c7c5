// Per-kind Table printers for the core kinds that are neither workloads, networking nor storage
// (nodes, namespaces, config maps, secrets, service accounts, events, resource quotas) and for
// policy, scheduling, node (RuntimeClasses), coordination and RBAC; the printers of the other groups are in
// tables_workloads.cc, tables_networking.cc, tables_storage.cc and tables_certificates.cc, and
// FindPrinter below searches them all. The columns and cell values are upstream's printers'
// (kubernetes pkg/printers/internalversion), written against kite's stored JSON. Upstream prints
// its internal types, so where the versioned JSON differs (events.k8s.io events) the JSON is read
// the way conversion would fill the internal object, and fields upstream defaults before storage
// are read with their defaults.
#include <algorithm>
#include <set>

#include "api/conditions.h"
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

constexpr Column kComponentStatusColumns[] = {
    kNameCol,
    {"Status", "string", "", "Healthy or Unhealthy, from the component's Healthy condition.", 0},
    {"Message", "string", "", "What the health check answered.", 0},
    {"Error", "string", "", "Why the health check could not be made.", 0},
};

PrintedRow PrintComponentStatus(const json::object& o, const PrintContext&) {
  std::string status = "Unknown", message, error;
  if (const json::object* c = api::FindCondition(api::GetArray(o, "conditions"), "Healthy")) {
    status = api::GetString(*c, "status") == "True" ? "Healthy" : "Unhealthy";
    message = api::GetString(*c, "message");
    error = api::GetString(*c, "error");
  }
  return Row({json::value(api::Name(o)), json::value(status), json::value(message), json::value(error)});
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

constexpr Column kRuntimeClassColumns[] = {
    kNameCol,
    {"Handler", "string", "", "The CRI runtime handler pods of this class run with.", 0},
    kAgeCol,
};

PrintedRow PrintRuntimeClass(const json::object& o, const PrintContext& ctx) {
  return Row({json::value(api::Name(o)), json::value(api::GetString(o, "handler")), json::value(Age(o, ctx))});
}

constexpr Column kWebhookConfigurationColumns[] = {
    kNameCol,
    {"Webhooks", "integer", "", "The number of webhooks of the configuration.", 0},
    kAgeCol,
};

PrintedRow PrintWebhookConfiguration(const json::object& o, const PrintContext& ctx) {
  return Row({json::value(api::Name(o)), json::value(static_cast<int64_t>(api::GetArray(o, "webhooks").size())),
              json::value(Age(o, ctx))});
}

// Upstream's APIService columns: the service as namespace/name ("Local" without one), and the
// Available condition's status with its reason when it is not True.
constexpr Column kApiServiceColumns[] = {
    kNameCol,
    {"Service", "string", "", "The reference to the service that hosts this API endpoint.", 0},
    {"Available", "string", "", "Whether this service is available.", 0},
    kAgeCol,
};

PrintedRow PrintApiService(const json::object& o, const PrintContext& ctx) {
  std::string service = "Local";
  if (const json::object* svc = api::FindObject(o, {"spec", "service"})) {
    service = api::GetString(*svc, "namespace") + "/" + api::GetString(*svc, "name");
  }
  std::string available = "Unknown";
  for (const auto& c : api::GetArray(o, {"status", "conditions"})) {
    if (!c.is_object() || api::GetString(c.as_object(), "type") != "Available") continue;
    available = api::GetString(c.as_object(), "status");
    if (available != "True") available += " (" + api::GetString(c.as_object(), "reason") + ")";
  }
  return Row({json::value(api::Name(o)), json::value(service), json::value(available), json::value(Age(o, ctx))});
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
    {"", "nodes", {kNodeColumns, PrintNode}},
    {"", "componentstatuses", {kComponentStatusColumns, PrintComponentStatus}},
    {"", "events", {kEventColumns, PrintEvent}},
    {"", "namespaces", {kNamespaceColumns, PrintNamespace}},
    {"", "secrets", {kSecretColumns, PrintSecret}},
    {"", "serviceaccounts", {kServiceAccountColumns, PrintServiceAccount}},
    {"", "configmaps", {kConfigMapColumns, PrintConfigMap}},
    {"", "resourcequotas", {kResourceQuotaColumns, PrintResourceQuota}},
    {"coordination.k8s.io", "leases", {kLeaseColumns, PrintLease}},
    {"events.k8s.io", "events", {kEventColumns, PrintEvent}},
    {"admissionregistration.k8s.io", "mutatingwebhookconfigurations",
     {kWebhookConfigurationColumns, PrintWebhookConfiguration}},
    {"admissionregistration.k8s.io", "validatingwebhookconfigurations",
     {kWebhookConfigurationColumns, PrintWebhookConfiguration}},
    {"apiregistration.k8s.io", "apiservices", {kApiServiceColumns, PrintApiService}},
    {"node.k8s.io", "runtimeclasses", {kRuntimeClassColumns, PrintRuntimeClass}},
    {"policy", "poddisruptionbudgets", {kPodDisruptionBudgetColumns, PrintPodDisruptionBudget}},
    {"rbac.authorization.k8s.io", "rolebindings", {kRoleBindingColumns, PrintRoleBinding}},
    {"rbac.authorization.k8s.io", "clusterrolebindings", {kRoleBindingColumns, PrintRoleBinding}},
    {"scheduling.k8s.io", "priorityclasses", {kPriorityClassColumns, PrintPriorityClass}},
};

}  // namespace

const Printer* FindPrinter(std::string_view group, std::string_view resource) {
  for (std::span<const PrinterEntry> entries :
       {std::span<const PrinterEntry>(kPrinters), WorkloadPrinters(), NetworkingPrinters(), StoragePrinters(),
        CertificatePrinters()}) {
    for (const PrinterEntry& e : entries) {
      if (e.group == group && e.resource == resource) return &e.printer;
    }
  }
  return nullptr;
}

}  // namespace kite::apiserver::tables