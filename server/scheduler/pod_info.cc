#include "server/scheduler/pod_info.h"

#include <boost/json.hpp>

#include <algorithm>

#include "api/object.h"
#include "api/quantity.h"
#include "api/time.h"

namespace kite::scheduler {
namespace json = boost::json;

namespace {

// The string members of an object member (labels, nodeSelector) as a map.
Labels LabelsAt(const json::object& o, std::string_view key) {
  Labels out;
  for (const auto& [k, v] : api::GetObject(o, key)) {
    if (v.is_string()) out.emplace(std::string(k), std::string(v.get_string()));
  }
  return out;
}

// An RFC 3339 time as Unix seconds (with the fraction); 0 when unparseable.
double ParseTime(const std::string& s) {
  auto t = api::ParseRfc3339(s);
  return t ? static_cast<double>(t->unix_sec) + t->nanos / 1e9 : 0;
}

// Upstream's IsScalarResourceName: extended resources (a domain-prefixed name outside
// kubernetes.io/), hugepages-*, attachable-volumes-* and prefixed native resources.
bool IsScalarResourceName(std::string_view n) {
  return n.starts_with("hugepages-") || n.starts_with("attachable-volumes-") || n.find('/') != std::string_view::npos;
}

void AddToList(Resources& r, std::string_view name, const api::Quantity& q) {
  if (name == "cpu") r.milli_cpu += q.MilliValue();
  else if (name == "memory") r.memory += q.Value();
  else if (name == "ephemeral-storage") r.ephemeral_storage += q.Value();
  else if (name == "pods") r.pods += q.Value();
  else if (IsScalarResourceName(name)) r.AddScalar(name, q.Value());
}

// A container's requests, with limits standing in for requests it does not state (the API
// server's defaulting). `non_zero`: also the scoring view, 100m / 200Mi when CPU / memory are
// not requested at all.
void ContainerRequests(const json::object& c, Resources* out, Resources* non_zero) {
  const json::object* req = api::FindObject(c, {"resources", "requests"});
  const json::object* lim = api::FindObject(c, {"resources", "limits"});
  bool has_cpu = false, has_mem = false;
  auto take = [&](const json::object* list, bool only_missing) {
    if (!list) return;
    for (const auto& [k, v] : *list) {
      if (only_missing && req && req->contains(k)) continue;
      auto q = api::Quantity::FromJson(v);
      if (!q.ok()) continue;
      AddToList(*out, k, *q);
      has_cpu |= k == "cpu";
      has_mem |= k == "memory";
    }
  };
  take(req, false);
  take(lim, true);
  *non_zero = Resources{};
  non_zero->milli_cpu = has_cpu ? out->milli_cpu : 100;
  non_zero->memory = has_mem ? out->memory : 200 * 1024 * 1024;
}

// Upstream's PodRequests aggregation over containers, init containers (sidecars included) and
// overhead, for one view (actual or non-zero).
struct RequestViews {
  Resources actual, non_zero;
};

RequestViews PodRequests(const json::object& spec) {
  RequestViews sum;
  for (const auto& c : api::GetArray(spec, "containers")) {
    if (!c.is_object()) continue;
    Resources r, nz;
    ContainerRequests(c.get_object(), &r, &nz);
    sum.actual.Add(r);
    sum.non_zero.Add(nz);
  }
  RequestViews init_max, sidecars;
  for (const auto& c : api::GetArray(spec, "initContainers")) {
    if (!c.is_object()) continue;
    Resources r, nz;
    ContainerRequests(c.get_object(), &r, &nz);
    if (api::GetString(c.get_object(), "restartPolicy") == "Always") {
      // A sidecar runs beside the app containers: it adds to the sum, and every later init
      // container runs beside it too.
      sum.actual.Add(r);
      sum.non_zero.Add(nz);
      sidecars.actual.Add(r);
      sidecars.non_zero.Add(nz);
      init_max.actual.Max(sidecars.actual);
      init_max.non_zero.Max(sidecars.non_zero);
    } else {
      r.Add(sidecars.actual);
      nz.Add(sidecars.non_zero);
      init_max.actual.Max(r);
      init_max.non_zero.Max(nz);
    }
  }
  sum.actual.Max(init_max.actual);
  sum.non_zero.Max(init_max.non_zero);
  if (const json::value* ov = api::Find(spec, "overhead")) {
    Resources o = ParseResourceList(ov);
    o.pods = 0;
    sum.actual.Add(o);
    sum.non_zero.Add(o);
  }
  return sum;
}

std::optional<api::LabelOperator> NodeSelectorOperator(const std::string& op) {
  if (op == "In") return api::LabelOperator::kIn;
  if (op == "NotIn") return api::LabelOperator::kNotIn;
  if (op == "Exists") return api::LabelOperator::kExists;
  if (op == "DoesNotExist") return api::LabelOperator::kDoesNotExist;
  if (op == "Gt") return api::LabelOperator::kGreaterThan;
  if (op == "Lt") return api::LabelOperator::kLessThan;
  return std::nullopt;
}

// A NodeSelectorTerm as upstream's nodeaffinity helpers read it: an invalid requirement makes
// the whole term match nothing; matchFields supports metadata.name with In / NotIn only.
NodeSelectorTerm ParseNodeSelectorTerm(const json::object& t) {
  NodeSelectorTerm term;
  auto parse = [&](const char* member, std::vector<api::LabelRequirement>* out, bool fields) {
    for (const auto& e : api::GetArray(t, member)) {
      const json::object& r = api::AsObject(e);
      std::string key = api::GetString(r, "key");
      auto op = NodeSelectorOperator(api::GetString(r, "operator"));
      if (!op || (fields && (key != "metadata.name" || (*op != api::LabelOperator::kIn && *op != api::LabelOperator::kNotIn)))) {
        term.valid = false;
        continue;
      }
      auto req = api::LabelRequirement::Create(key, *op, api::GetStrings(r, "values"));
      if (!req.ok()) {
        term.valid = false;
        continue;
      }
      out->push_back(std::move(req).value());
    }
  };
  parse("matchExpressions", &term.expressions, false);
  parse("matchFields", &term.fields, true);
  return term;
}

std::string JoinSorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  std::string out;
  for (const auto& s : v) out += s + ",";
  return out;
}

void ParseAffinityTerms(const json::array& arr, bool weighted, const std::string& pod_ns, std::vector<AffinityTerm>* out,
                        std::string* error) {
  for (const auto& e : arr) {
    const json::object* w = e.if_object();
    const json::object* t = weighted && w ? api::FindObject(*w, "podAffinityTerm") : w;
    if (!t) continue;
    AffinityTerm term;
    if (weighted) term.weight = static_cast<int32_t>(api::GetInt(*w, "weight"));
    static const json::value kNull;
    const json::value* sel = t->if_contains("labelSelector");
    auto s = api::LabelSelector::FromLabelSelectorJson(sel ? *sel : kNull);
    if (!s.ok()) {
      *error = s.status().message();
      continue;
    }
    term.selector = std::move(s).value();
    term.namespaces = api::GetStrings(*t, "namespaces");
    const json::value* nss = t->if_contains("namespaceSelector");
    if (nss && !nss->is_null()) {
      auto ns_sel = api::LabelSelector::FromLabelSelectorJson(*nss);
      if (!ns_sel.ok()) {
        *error = ns_sel.status().message();
        continue;
      }
      term.ns_selector = std::move(ns_sel).value();
    } else if (term.namespaces.empty()) {
      term.namespaces.push_back(pod_ns);  // neither given: the pod's own namespace
    }
    term.topology_key = api::GetString(*t, "topologyKey");
    term.signature = JoinSorted(term.namespaces) + "|" + (term.ns_selector ? "ns:" + term.ns_selector->String() : "") +
                     "|" + (term.selector.IsNothing() ? "<nothing>" : term.selector.String()) + "|" + term.topology_key;
    out->push_back(std::move(term));
  }
}

void ParseSpread(const json::array& arr, const Labels& pod_labels, std::vector<SpreadConstraint>* out, std::string* error) {
  for (const auto& e : arr) {
    if (!e.is_object()) continue;
    const json::object& c = e.get_object();
    SpreadConstraint sc;
    sc.max_skew = static_cast<int32_t>(api::GetInt(c, "maxSkew", 1));
    sc.topology_key = api::GetString(c, "topologyKey");
    sc.hard = api::GetString(c, "whenUnsatisfiable") != "ScheduleAnyway";
    sc.min_domains = static_cast<int32_t>(api::GetInt(c, "minDomains", 1));
    if (sc.min_domains < 1) sc.min_domains = 1;
    sc.honor_node_affinity = api::GetString(c, "nodeAffinityPolicy") != "Ignore";
    sc.honor_node_taints = api::GetString(c, "nodeTaintsPolicy") == "Honor";
    json::value sel = c.contains("labelSelector") ? c.at("labelSelector") : json::value();
    // matchLabelKeys: the pod's own values for those keys join the selector (as upstream
    // merges them), so pods of one revision spread among themselves.
    if (const json::array* keys = api::FindArray(c, "matchLabelKeys"); keys && sel.is_object()) {
      json::value& exprs = sel.as_object()["matchExpressions"];
      if (!exprs.is_array()) exprs = json::array();
      for (const auto& k : *keys) {
        if (!k.is_string()) continue;
        auto it = pod_labels.find(std::string(k.get_string()));
        if (it == pod_labels.end()) continue;
        exprs.as_array().push_back(json::object{{"key", it->first}, {"operator", "In"}, {"values", json::array{it->second}}});
      }
    }
    auto s = api::LabelSelector::FromLabelSelectorJson(sel);
    if (!s.ok()) {
      *error = s.status().message();
      continue;
    }
    sc.selector = std::move(s).value();
    out->push_back(std::move(sc));
  }
}

}  // namespace

int64_t Resources::Scalar(std::string_view name) const {
  for (const auto& [n, v] : scalar) {
    if (n == name) return v;
  }
  return 0;
}

void Resources::AddScalar(std::string_view name, int64_t v) {
  auto it = std::lower_bound(scalar.begin(), scalar.end(), name, [](const auto& e, std::string_view n) { return e.first < n; });
  if (it != scalar.end() && it->first == name) it->second += v;
  else scalar.emplace(it, std::string(name), v);
}

void Resources::Add(const Resources& r) {
  milli_cpu += r.milli_cpu;
  memory += r.memory;
  ephemeral_storage += r.ephemeral_storage;
  pods += r.pods;
  for (const auto& [n, v] : r.scalar) AddScalar(n, v);
}

void Resources::Sub(const Resources& r) {
  milli_cpu -= r.milli_cpu;
  memory -= r.memory;
  ephemeral_storage -= r.ephemeral_storage;
  pods -= r.pods;
  for (const auto& [n, v] : r.scalar) AddScalar(n, -v);
}

void Resources::Max(const Resources& r) {
  milli_cpu = std::max(milli_cpu, r.milli_cpu);
  memory = std::max(memory, r.memory);
  ephemeral_storage = std::max(ephemeral_storage, r.ephemeral_storage);
  for (const auto& [n, v] : r.scalar) {
    int64_t have = Scalar(n);
    if (v > have) AddScalar(n, v - have);
  }
}

Resources ParseResourceList(const json::value* list) {
  Resources r;
  if (!list || !list->is_object()) return r;
  for (const auto& [k, v] : list->get_object()) {
    auto q = api::Quantity::FromJson(v);
    if (q.ok()) AddToList(r, k, *q);
  }
  return r;
}

bool Toleration::Tolerates(const Taint& t) const {
  if (!effect.empty() && effect != t.effect) return false;
  if (!key.empty() && key != t.key) return false;
  if (op == "Exists") return true;
  if (op.empty() || op == "Equal") return value == t.value;
  return false;
}

bool TaintTolerated(const std::vector<Toleration>& tolerations, const Taint& taint) {
  for (const auto& t : tolerations) {
    if (t.Tolerates(taint)) return true;
  }
  return false;
}

bool NodeSelectorTerm::Matches(const std::string& node_name, const Labels& labels) const {
  if (!valid || (expressions.empty() && fields.empty())) return false;
  for (const auto& r : expressions) {
    auto it = labels.find(r.key());
    if (!r.Matches(it != labels.end(), it != labels.end() ? std::optional<std::string_view>(it->second) : std::nullopt)) {
      return false;
    }
  }
  for (const auto& r : fields) {
    if (!r.Matches(true, std::string_view(node_name))) return false;
  }
  return true;
}

bool PodInfo::MatchesNodeSelectorAndAffinity(const std::string& node, const Labels& node_labels) const {
  for (const auto& [k, v] : node_selector) {
    auto it = node_labels.find(k);
    if (it == node_labels.end() || it->second != v) return false;
  }
  if (required_node_affinity) {
    for (const auto& t : *required_node_affinity) {
      if (t.Matches(node, node_labels)) return true;
    }
    return false;
  }
  return true;
}

bool TermMatchesPod(const AffinityTerm& term, const PodInfo& pod, const Labels* pod_ns_labels) {
  bool ns_ok = std::find(term.namespaces.begin(), term.namespaces.end(), pod.ns) != term.namespaces.end();
  if (!ns_ok && term.ns_selector) {
    static const Labels kNone;
    ns_ok = term.ns_selector->Matches(pod_ns_labels ? *pod_ns_labels : kNone);
  }
  return ns_ok && term.selector.Matches(pod.labels);
}

std::optional<int32_t> BuiltinPriorityClass(const std::string& name) {
  if (name == "system-node-critical") return 2000001000;
  if (name == "system-cluster-critical") return 2000000000;
  return std::nullopt;
}

std::vector<NodeSelectorTerm> ParseNodeSelector(const json::object* selector) {
  std::vector<NodeSelectorTerm> terms;
  if (!selector) return terms;
  for (const auto& t : api::GetArray(*selector, "nodeSelectorTerms")) {
    if (t.is_object()) terms.push_back(ParseNodeSelectorTerm(t.get_object()));
  }
  return terms;
}

PodInfoPtr ParsePod(client::ObjectPtr obj, const PriorityClassLookup& priority_classes) {
  auto p = std::make_shared<PodInfo>();
  const json::object& o = *obj;
  const json::object& meta = api::Metadata(o);
  const json::object& spec = api::GetObject(o, "spec");
  const json::object& status = api::GetObject(o, "status");
  p->ns = api::GetString(meta, "namespace");
  p->name = api::GetString(meta, "name");
  p->uid = api::GetString(meta, "uid");
  p->resource_version = api::GetString(meta, "resourceVersion");
  p->key = p->ns + "/" + p->name;
  p->labels = LabelsAt(meta, "labels");
  p->terminating = api::IsBeingDeleted(o);
  p->node_name = api::GetString(spec, "nodeName");
  p->scheduler_name = api::GetString(spec, "schedulerName");
  p->nominated_node_name = api::GetString(status, "nominatedNodeName");
  p->phase = api::GetString(status, "phase");
  std::string start = api::GetString(status, "startTime");
  p->start_time = ParseTime(start.empty() ? api::GetString(meta, "creationTimestamp") : start);
  p->gated = !api::GetArray(spec, "schedulingGates").empty();

  // Priority, as the Priority admission plugin resolves it.
  std::string policy = api::GetString(spec, "preemptionPolicy");
  if (const json::value* prio = api::Find(spec, "priority"); prio && prio->is_number()) {
    p->priority = static_cast<int32_t>(api::AsInt(*prio));
  } else {
    std::string cls = api::GetString(spec, "priorityClassName");
    std::optional<std::pair<int32_t, std::string>> found;
    if (priority_classes) found = priority_classes(cls);
    if (!found && !cls.empty()) {
      if (auto b = BuiltinPriorityClass(cls)) found = std::pair<int32_t, std::string>{*b, "PreemptLowerPriority"};
    }
    if (found) {
      p->priority = found->first;
      if (policy.empty()) policy = found->second;
    }
  }
  p->preempt_never = policy == "Never";

  auto views = PodRequests(spec);
  p->requests = std::move(views.actual);
  p->requests.pods = 1;
  p->non_zero_milli_cpu = views.non_zero.milli_cpu;
  p->non_zero_memory = views.non_zero.memory;

  for (const auto& c : api::GetArray(spec, "containers")) {
    for (const auto& pv : api::GetArray(api::AsObject(c), "ports")) {
      const json::object& port = api::AsObject(pv);
      int64_t hp = api::GetInt(port, "hostPort");
      if (hp <= 0) continue;
      HostPort h{api::GetString(port, "hostIP"), api::GetString(port, "protocol"), static_cast<int32_t>(hp)};
      if (h.ip.empty()) h.ip = "0.0.0.0";
      if (h.protocol.empty()) h.protocol = "TCP";
      p->host_ports.push_back(std::move(h));
    }
  }

  for (const auto& v : api::GetArray(spec, "volumes")) {
    const json::object& vo = api::AsObject(v);
    if (std::string claim = api::GetString(vo, {"persistentVolumeClaim", "claimName"}); !claim.empty()) {
      p->claims.push_back(std::move(claim));
    } else if (api::FindObject(vo, "ephemeral")) {
      p->claims.push_back(p->name + "-" + api::GetString(vo, "name"));
    }
  }

  p->node_selector = LabelsAt(spec, "nodeSelector");
  for (const auto& t : api::GetArray(spec, "tolerations")) {
    if (!t.is_object()) continue;
    const json::object& to = t.get_object();
    p->tolerations.push_back({api::GetString(to, "key"), api::GetString(to, "operator"), api::GetString(to, "value"),
                              api::GetString(to, "effect")});
  }

  const json::object& affinity = api::GetObject(spec, "affinity");
  if (const json::object* na = api::FindObject(affinity, "nodeAffinity")) {
    if (const json::object* req = api::FindObject(*na, "requiredDuringSchedulingIgnoredDuringExecution")) {
      p->required_node_affinity = ParseNodeSelector(req);
    }
    for (const auto& e : api::GetArray(*na, "preferredDuringSchedulingIgnoredDuringExecution")) {
      if (!e.is_object()) continue;
      const json::object& w = e.get_object();
      p->preferred_node_affinity.push_back(
          {static_cast<int32_t>(api::GetInt(w, "weight")), ParseNodeSelectorTerm(api::GetObject(w, "preference"))});
    }
  }
  const json::object& pa = api::GetObject(affinity, "podAffinity");
  const json::object& paa = api::GetObject(affinity, "podAntiAffinity");
  ParseAffinityTerms(api::GetArray(pa, "requiredDuringSchedulingIgnoredDuringExecution"), false, p->ns,
                     &p->required_affinity, &p->parse_error);
  ParseAffinityTerms(api::GetArray(pa, "preferredDuringSchedulingIgnoredDuringExecution"), true, p->ns,
                     &p->preferred_affinity, &p->parse_error);
  ParseAffinityTerms(api::GetArray(paa, "requiredDuringSchedulingIgnoredDuringExecution"), false, p->ns,
                     &p->required_anti_affinity, &p->parse_error);
  ParseAffinityTerms(api::GetArray(paa, "preferredDuringSchedulingIgnoredDuringExecution"), true, p->ns,
                     &p->preferred_anti_affinity, &p->parse_error);
  ParseSpread(api::GetArray(spec, "topologySpreadConstraints"), p->labels, &p->spread, &p->parse_error);
  p->object = std::move(obj);
  return p;
}

NodeSpecPtr ParseNode(client::ObjectPtr obj) {
  auto n = std::make_shared<NodeSpec>();
  const json::object& o = *obj;
  const json::object& meta = api::Metadata(o);
  const json::object& spec = api::GetObject(o, "spec");
  n->name = api::GetString(meta, "name");
  n->labels = LabelsAt(meta, "labels");
  n->allocatable = ParseResourceList(api::Find(o, {"status", "allocatable"}));
  for (const auto& t : api::GetArray(spec, "taints")) {
    if (!t.is_object()) continue;
    const json::object& to = t.get_object();
    n->taints.push_back({api::GetString(to, "key"), api::GetString(to, "value"), api::GetString(to, "effect")});
  }
  n->unschedulable = api::GetBool(spec, "unschedulable", n->unschedulable);
  n->object = std::move(obj);
  return n;
}

}  // namespace kite::scheduler
