// Subresources with their own objects: scale (autoscaling/v1 Scale over spec.replicas, or for
// a custom resource over the paths its CRD's subresources.scale names),
// eviction (policy/v1 Eviction, honouring PodDisruptionBudgets) and binding (the scheduler's
// pods/binding). Which kinds serve which of them: routes.cc.
#include <boost/json.hpp>

#include <string_view>
#include <vector>

#include "api/object.h"
#include "api/time.h"
#include "api/json_text.h"
#include "api/labels.h"
#include "server/apiserver/handlers/handlers_internal.h"
#include "server/apiserver/storage/registry.h"

namespace kite::apiserver {
namespace json = boost::json;
namespace asio = boost::asio;

namespace {

std::string SelectorString(const api::ResourceInfo& r, const json::object& obj) {
  auto spec = obj.find("spec");
  if (spec == obj.end() || !spec->value().is_object()) return "";
  auto sel = spec->value().as_object().find("selector");
  if (sel == spec->value().as_object().end()) return "";
  if (StrategyFor(r).SelectorIsLabelMap()) {
    if (!sel->value().is_object()) return "";
    std::map<std::string, std::string> m;
    for (const auto& kv : sel->value().as_object()) {
      if (kv.value().is_string()) m[std::string(kv.key())] = std::string(kv.value().as_string());
    }
    return api::LabelSelector::FromSet(m).String();
  }
  auto parsed = api::LabelSelector::FromLabelSelectorJson(sel->value());
  return parsed.ok() ? parsed->String() : "";
}

// Where the scale subresource reads and writes: spec.replicas and status.replicas for the
// built-in kinds; for a custom resource the CRD's specReplicasPath, statusReplicasPath and
// labelSelectorPath (simple field paths such as ".spec.size"; the selector field holds the
// selector in its string form, as upstream reads it).
struct ScalePaths {
  std::vector<std::string> spec{"spec", "replicas"}, status{"status", "replicas"}, selector;
  bool custom = false;
};

std::vector<std::string> SplitFieldPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') {
      ++i;
      continue;
    }
    size_t j = path.find('.', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

ScalePaths ScalePathsOf(const api::ResourceInfo& r) {
  ScalePaths p;
  if (!r.custom || !r.crd_version) return p;
  p.custom = true;
  const json::object* scale = nullptr;
  if (auto* sub = r.crd_version->if_contains("subresources"); sub && sub->is_object()) {
    if (auto* sc = sub->as_object().if_contains("scale"); sc && sc->is_object()) scale = &sc->as_object();
  }
  if (!scale) return p;
  auto path = [&](const char* key) -> std::vector<std::string> {
    const auto* v = scale->if_contains(key);
    return v && v->is_string() ? SplitFieldPath(v->as_string()) : std::vector<std::string>{};
  };
  if (auto v = path("specReplicasPath"); !v.empty()) p.spec = std::move(v);
  p.status = path("statusReplicasPath");
  p.selector = path("labelSelectorPath");
  return p;
}

const json::value* ScaleValueAt(const json::object& obj, const std::vector<std::string>& path) {
  const json::object* cur = &obj;
  for (size_t i = 0; i < path.size(); ++i) {
    const json::value* v = cur->if_contains(path[i]);
    if (!v) return nullptr;
    if (i + 1 == path.size()) return v;
    if (!v->is_object()) return nullptr;
    cur = &v->as_object();
  }
  return nullptr;
}

int64_t IntAtPath(const json::object& obj, const std::vector<std::string>& path) {
  const json::value* v = ScaleValueAt(obj, path);
  return v && v->is_int64() ? v->as_int64() : 0;
}

// Sets `path` (creating the objects on the way, replacing non-objects) to `v`.
void SetAtPath(json::object& obj, const std::vector<std::string>& path, json::value v) {
  json::object* cur = &obj;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    json::value& next = (*cur)[path[i]];
    if (!next.is_object()) next = json::object{};
    cur = &next.as_object();
  }
  if (!path.empty()) (*cur)[path.back()] = std::move(v);
}

json::object ScaleOf(const api::ResourceInfo& r, json::object& obj) {
  auto& meta = api::MutableObject(obj, "metadata");
  json::object m;
  for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    if (auto it = meta.find(k); it != meta.end()) m[k] = it->value();
  }
  const ScalePaths paths = ScalePathsOf(r);
  const int64_t want = IntAtPath(obj, paths.spec);
  const int64_t have = paths.status.empty() ? 0 : IntAtPath(obj, paths.status);
  json::object status{{"replicas", have}};
  if (paths.custom) {
    const json::value* sel = paths.selector.empty() ? nullptr : ScaleValueAt(obj, paths.selector);
    if (sel && sel->is_string() && !sel->as_string().empty()) status["selector"] = sel->as_string();
  } else if (std::string sel = SelectorString(r, obj); !sel.empty()) {
    status["selector"] = sel;
  }
  return json::object{{"kind", "Scale"}, {"apiVersion", "autoscaling/v1"}, {"metadata", std::move(m)},
                      {"spec", json::object{{"replicas", want}}}, {"status", std::move(status)}};
}

}  // namespace

asio::awaitable<Result<ApiResponse>> ResourceHandlers::Scale(Call& c) {
  const std::string& verb = c.info.verb;
  for (int attempt = 0;; ++attempt) {
    auto got = co_await registry_.Get(c.r, c.ns, c.info.name);
    if (!got.ok()) co_return got.error();
    json::object& obj = got.value();
    if (verb == "get") co_return ApiResponse{200, ScaleOf(c.r, obj), {}};
    if (verb != "update" && verb != "patch") co_return MethodNotSupported(verb, QualifiedResource(c.r));
    json::object scale = ScaleOf(c.r, obj);
    json::object wanted;
    if (verb == "update") {
      auto body = DecodeBody(c.req, c.r, "Scale", "autoscaling/v1");
      if (!body.ok()) co_return body.error();
      wanted = std::move(body.value());
    } else {
      auto patch_text = api::ParseJson(c.req.body);
      if (!patch_text.ok()) co_return BadRequest("error decoding the patch: " + patch_text.status().message());
      std::string media = c.req.Header("content-type");
      media = media.substr(0, media.find(';'));
      auto patched = ApplyPatch(c.r, media == "application/apply-patch+yaml" ? "application/merge-patch+json" : media,
                                scale, patch_text.value(), ManagerName(c.req), false);
      if (!patched.ok()) co_return patched.error();
      wanted = std::move(patched.value());
    }
    int64_t replicas = -1;
    if (auto s = wanted.find("spec"); s != wanted.end() && s->value().is_object()) {
      if (auto it = s->value().as_object().find("replicas"); it != s->value().as_object().end() && it->value().is_int64()) {
        replicas = it->value().as_int64();
      }
    }
    if (replicas < 0) {
      co_return Status::Api(422, "Invalid", "Scale.autoscaling \"" + c.info.name +
                                             "\" is invalid: spec.replicas: Invalid value: " + std::to_string(replicas) +
                                             ": must be greater than or equal to 0");
    }
    std::string rv = api::GetString(api::MutableObject(wanted, "metadata"), "resourceVersion");
    json::object updated = obj;
    SetAtPath(updated, ScalePathsOf(c.r).spec, replicas);
    if (verb == "update" && !rv.empty()) api::MutableObject(updated, "metadata")["resourceVersion"] = rv;
    RecordManager(updated, ManagerName(c.req), "Update", c.r.group_version(), &obj);
    auto out = co_await registry_.Update(c.r, c.ns, c.info.name, std::move(updated), UpdateOptions{c.dry_run});
    if (!out.ok()) {
      if (out.error().reason() == "Conflict" && (verb == "patch" || rv.empty()) && attempt < kConflictRetries) continue;
      co_return out.error();
    }
    co_return ApiResponse{200, ScaleOf(c.r, out.value()), {}};
  }
}

namespace {

Status BudgetTooManyRequests(const std::string& cause) {
  Status::Details d;
  d.causes.push_back({"DisruptionBudget", cause, ""});
  return Status::Api(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.")
      .set_details(std::move(d));
}

bool PodReady(const json::object& pod) {
  auto* st = pod.if_contains("status");
  if (!st || !st->is_object()) return false;
  auto* conds = st->as_object().if_contains("conditions");
  if (!conds || !conds->is_array()) return false;
  for (const auto& cv : conds->as_array()) {
    if (cv.is_object() && api::GetString(cv.as_object(), "type") == "Ready") return api::GetString(cv.as_object(), "status") == "True";
  }
  return false;
}

}  // namespace

// Ok when the pod may go: it is not protected (done, pending or already terminating; no budget;
// an unhealthy pod the budget's unhealthyPodEvictionPolicy lets go), or its budget allowed one
// more disruption and that allowance is now spent (written unless dry_run). 409 when the budget
// changed under us (the caller retries).
asio::awaitable<Result<int64_t>> ResourceHandlers::CheckEvictionBudget(const api::ResourceInfo& pdbr, const std::string& ns,
                                                                      json::object& pod, bool dry_run) {
  json::object& meta = api::MutableObject(pod, "metadata");
  const std::string phase = pod["status"].is_object() ? api::GetString(pod["status"].as_object(), "phase") : "";
  if (phase == "Succeeded" || phase == "Failed" || phase == "Pending" || meta.contains("deletionTimestamp")) {
    co_return int64_t{0};
  }
  json::object labels;
  if (auto l = meta.find("labels"); l != meta.end() && l->value().is_object()) labels = l->value().as_object();
  const ListOptions everything;
  auto pdbs = co_await registry_.List(pdbr, ns, everything);
  if (!pdbs.ok()) co_return pdbs.error();
  json::object* budget = nullptr;
  int matching = 0;
  for (auto& item : pdbs.value()["items"].as_array()) {
    auto& pdb = item.as_object();
    auto spec = pdb.find("spec");
    if (spec == pdb.end() || !spec->value().is_object()) continue;
    auto sel = spec->value().as_object().find("selector");
    if (sel == spec->value().as_object().end()) continue;
    auto parsed = api::LabelSelector::FromLabelSelectorJson(sel->value());
    if (!parsed.ok() || parsed->Empty() || !parsed->Matches(labels)) continue;
    ++matching;
    budget = &pdb;
  }
  if (matching == 0) co_return int64_t{0};
  if (matching > 1) {
    co_return InternalError("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
  }
  json::object& pdb = *budget;
  const std::string pdb_name = api::GetString(api::MutableObject(pdb, "metadata"), "name");
  json::value& sv = pdb["status"];
  if (!sv.is_object()) sv = json::object();
  json::object& status = sv.as_object();
  // An unready pod does not count as healthy: deleting it disrupts nothing when the budget is
  // met (IfHealthyBudget, the default) or always (AlwaysAllow).
  if (!PodReady(pod)) {
    const std::string policy = pdb["spec"].is_object() ? api::GetString(pdb["spec"].as_object(), "unhealthyPodEvictionPolicy") : "";
    if (policy == "AlwaysAllow") co_return int64_t{0};
    const int64_t desired = api::GetInt(status, "desiredHealthy");
    if (desired > 0 && api::GetInt(status, "currentHealthy") >= desired) co_return int64_t{0};
  }
  const int64_t generation = api::GetInt(api::MutableObject(pdb, "metadata"), "generation");
  if (api::GetInt(status, "observedGeneration") < generation) {
    co_return BudgetTooManyRequests("The disruption budget " + pdb_name + " is still being processed by the server.");
  }
  const int64_t allowed = api::GetInt(status, "disruptionsAllowed");
  if (allowed < 0) {
    co_return Forbidden("poddisruptionbudget.policy \"" + pdb_name + "\" is forbidden: pdb disruptions allowed is negative");
  }
  auto* disrupted = status.if_contains("disruptedPods");
  if (disrupted && disrupted->is_object() && disrupted->as_object().size() > 2000) {
    co_return Forbidden("poddisruptionbudget.policy \"" + pdb_name +
                        "\" is forbidden: DisruptedPods map too big - too many evictions not confirmed by PDB controller");
  }
  if (allowed == 0) {
    co_return BudgetTooManyRequests("The disruption budget " + pdb_name + " needs " +
                                    std::to_string(api::GetInt(status, "desiredHealthy")) + " healthy pods and has " +
                                    std::to_string(api::GetInt(status, "currentHealthy")) + " currently");
  }
  if (dry_run) co_return int64_t{0};
  status["disruptionsAllowed"] = allowed - 1;
  json::value& dp = status["disruptedPods"];
  if (!dp.is_object()) dp = json::object();
  dp.as_object()[api::GetString(meta, "name")] = api::NowTime();
  UpdateOptions o;
  o.scope = UpdateOptions::Scope::kStatus;
  auto updated = co_await registry_.Update(pdbr, ns, pdb_name, std::move(pdb), o);
  if (!updated.ok()) co_return updated.error();
  co_return int64_t{1};
}

asio::awaitable<Result<ApiResponse>> ResourceHandlers::Eviction(Call& c) {
  auto body = DecodeBody(c.req, c.r, "Eviction", "policy/v1");
  if (!body.ok()) {
    // policy/v1beta1 bodies are accepted too.
    body = DecodeBody(c.req, c.r, "Eviction", "policy/v1beta1");
    if (!body.ok()) co_return body.error();
  }
  // Check-and-decrement, as upstream's eviction subresource: the one budget covering the pod
  // must allow a disruption; its status.disruptionsAllowed is decremented and the pod recorded in
  // status.disruptedPods with a resourceVersion precondition, so concurrent evictions (kubectl
  // drain evicts a node's pods in parallel) cannot spend one allowance twice. A conflict retries.
  const api::ResourceInfo* pdbr = api::FindResource("policy", "v1", "poddisruptionbudgets");
  for (int attempt = 0;; ++attempt) {
    auto pod = co_await registry_.Get(c.r, c.ns, c.info.name);
    if (!pod.ok()) co_return pod.error();
    auto budget = co_await CheckEvictionBudget(*pdbr, c.ns, pod.value(), c.dry_run);
    if (budget.ok()) break;
    if (budget.error().http_code() != 409 || attempt >= 20) co_return budget.error();
  }
  DeleteOptions o;
  o.dry_run = c.dry_run;
  auto& b = body.value();
  if (auto d = b.find("deleteOptions"); d != b.end() && d->value().is_object()) {
    auto& dopt = d->value().as_object();
    if (auto g = dopt.find("gracePeriodSeconds"); g != dopt.end() && g->value().is_int64()) {
      o.grace_period_seconds = g->value().as_int64();
    }
  }
  auto out = co_await registry_.Delete(c.r, c.ns, c.info.name, o);
  if (!out.ok()) co_return out.error();
  co_return ApiResponse{201,
                        json::object{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()},
                                     {"status", "Success"}, {"code", 201}},
                        {}};
}

asio::awaitable<Result<ApiResponse>> ResourceHandlers::Binding(Call& c, const std::string& pod_name) {
  const api::ResourceInfo* binding = api::FindResource("", "v1", "bindings");
  auto body = DecodeBody(c.req, *binding);
  if (!body.ok()) co_return body.error();
  std::string node;
  if (auto t = body.value().find("target"); t != body.value().end() && t->value().is_object()) {
    node = api::GetString(t->value().as_object(), "name");
  }
  if (node.empty()) {
    co_return Status::Api(422, "Invalid", "Binding \"" + pod_name + "\" is invalid: target.name: Required value");
  }
  const api::ResourceInfo* pods = api::FindResource("", "v1", "pods");
  for (int attempt = 0;; ++attempt) {
    auto pod = co_await registry_.Get(*pods, c.ns, pod_name);
    if (!pod.ok()) co_return pod.error();
    json::object& p = pod.value();
    if (api::MutableObject(p, "metadata").contains("deletionTimestamp")) {
      co_return Status::Api(409, "Conflict", "Operation cannot be fulfilled on pods/binding \"" + pod_name +
                                              "\": pod " + pod_name + " is being deleted, cannot be assigned to a host");
    }
    json::object& spec = p["spec"].is_object() ? p["spec"].as_object() : (p["spec"] = json::object()).as_object();
    if (std::string have = api::GetString(spec, "nodeName"); !have.empty()) {
      co_return Status::Api(409, "Conflict", "Operation cannot be fulfilled on pods/binding \"" + pod_name + "\": pod " +
                                              pod_name + " is already assigned to node \"" + have + "\"");
    }
    spec["nodeName"] = node;
    json::object& status = p["status"].is_object() ? p["status"].as_object() : (p["status"] = json::object()).as_object();
    json::value& conds = status["conditions"];
    if (!conds.is_array()) conds = json::array();
    json::array kept;
    for (auto& cnd : conds.as_array()) {
      if (!(cnd.is_object() && api::GetString(cnd.as_object(), "type") == "PodScheduled")) kept.push_back(cnd);
    }
    kept.push_back(json::object{{"type", "PodScheduled"}, {"status", "True"}, {"lastProbeTime", nullptr},
                                {"lastTransitionTime", api::NowTime()}});
    conds = std::move(kept);
    auto out = co_await registry_.Update(*pods, c.ns, pod_name, std::move(p), UpdateOptions{c.dry_run, UpdateOptions::Scope::kWhole});
    if (!out.ok()) {
      if (out.error().reason() == "Conflict" && attempt < kConflictRetries) continue;
      co_return out.error();
    }
    co_return ApiResponse{201,
                          json::object{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()},
                                       {"status", "Success"}, {"code", 201}},
                          {}};
  }
}

}  // namespace kite::apiserver
