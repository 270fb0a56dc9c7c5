#include "client/testing/fake_transport.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <stdexcept>

#include "api/fields.h"
#include "api/json_patch.h"
#include "api/labels.h"
#include "api/merge_patch.h"
#include "api/schema.h"
#include "api/strategic_merge.h"
#include "api/time.h"

namespace kite::client::testing {
namespace json = boost::json;

namespace {

std::string Str(const json::object& o, std::string_view key) {
  if (auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->as_string());
  return "";
}

json::object& MetaOf(json::object& o) {
  json::value& m = o["metadata"];
  if (!m.is_object()) m = json::object();
  return m.as_object();
}

const json::object& MetaOf(const json::object& o) {
  static const json::object kEmpty;
  if (auto* m = o.if_contains("metadata"); m && m->is_object()) return m->as_object();
  return kEmpty;
}

std::string Query(const Request& req, std::string_view key) {
  for (const auto& [k, v] : req.query) {
    if (k == key) return v;
  }
  return "";
}

std::string ResourceId(const api::ResourceInfo& r) { return r.group + "/" + r.resource; }

std::string ObjKey(const std::string& ns, const std::string& name) { return ns + "/" + name; }

bool HasStatusSubresource(const api::ResourceInfo& r) { return r.Subresource("status") != nullptr; }

// The finalizers that hold an object's deletion (a namespace's spec.finalizers too).
bool HasFinalizers(const api::ResourceInfo& r, const json::object& obj) {
  const auto& m = MetaOf(obj);
  if (auto* f = m.if_contains("finalizers"); f && f->is_array() && !f->as_array().empty()) return true;
  if (r.group.empty() && r.resource == "namespaces") {
    if (auto* s = obj.if_contains("spec"); s && s->is_object()) {
      if (auto* f = s->as_object().if_contains("finalizers"); f && f->is_array() && !f->as_array().empty()) return true;
    }
  }
  return false;
}

// A field selector's view of an object: metadata.name / metadata.namespace and any dotted path.
std::optional<std::string> FieldOf(const json::object& obj, std::string_view field) {
  const json::value* cur = nullptr;
  const json::object* o = &obj;
  size_t start = 0;
  while (true) {
    size_t dot = field.find('.', start);
    std::string_view part = field.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    cur = o->if_contains(part);
    if (!cur) return std::nullopt;
    if (dot == std::string_view::npos) break;
    if (!cur->is_object()) return std::nullopt;
    o = &cur->as_object();
    start = dot + 1;
  }
  if (cur->is_string()) return std::string(cur->as_string());
  if (cur->is_null()) return std::nullopt;
  return json::serialize(*cur);
}

bool Selected(const json::object& obj, const api::LabelSelector& labels, const api::FieldSelector& fields) {
  static const json::object kNoLabels;
  const auto& m = MetaOf(obj);
  const auto* l = m.if_contains("labels");
  if (!labels.Matches(l && l->is_object() ? l->as_object() : kNoLabels)) return false;
  return fields.Matches([&](std::string_view f) { return FieldOf(obj, f); });
}

std::string NewUid() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard lock(mu);
  const uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string Quoted(const std::string& resource, const std::string& name) {
  return resource + " \"" + name + "\"";
}

}  // namespace

std::string Action::Describe() const {
  return verb + " " + resource + (subresource.empty() ? "" : "/" + subresource);
}

struct FakeTransport::Parsed {
  const api::ResourceInfo* r = nullptr;
  std::string ns, name, sub;
};

struct FakeTransport::Stream {
  std::string resource_id, ns;
  api::LabelSelector labels;
  api::FieldSelector fields;
  std::function<void(std::string_view)> on_line;
  std::function<void(Response)> on_end;
  bool stopped = false;  // guarded by the transport's mu_
};

class FakeTransport::StreamHandle final : public WatchStream {
 public:
  StreamHandle(FakeTransport* t, std::shared_ptr<Stream> s) : t_(t), s_(std::move(s)) {}
  ~StreamHandle() override { Stop(); }
  void Stop() override {
    std::unique_lock lock(t_->mu_);
    if (s_->stopped) return;
    s_->stopped = true;
    std::erase(t_->streams_, s_);
    // No callback may run once Stop returned (the caller frees what the callback uses), unless
    // the callback itself stops its stream.
    if (std::this_thread::get_id() != t_->dispatcher_.get_id()) {
      t_->cv_.wait(lock, [&] { return t_->delivering_stream_ != s_.get(); });
    }
  }

 private:
  FakeTransport* t_;
  std::shared_ptr<Stream> s_;
};

FakeTransport::FakeTransport(const Clock* clock) : clock_(clock) {
  // resourceVersions never repeat within the process: informers share decoded objects
  // process-wide by uid and resourceVersion, and tests reuse uids from one fake to the next.
  static std::atomic<int64_t> next_base{0};
  rv_ = (next_base.fetch_add(1) + 1) * 1'000'000;
  dispatcher_ = std::thread([this] { DispatchLoop(); });
}

FakeTransport::~FakeTransport() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  dispatcher_.join();
}

void FakeTransport::DispatchLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !outbox_.empty(); });
    if (stopping_) return;
    auto [stream, line] = std::move(outbox_.front());
    outbox_.pop_front();
    if (stream->stopped) {
      cv_.notify_all();
      continue;
    }
    delivering_stream_ = stream.get();
    lock.unlock();
    stream->on_line(line);
    lock.lock();
    delivering_stream_ = nullptr;
    cv_.notify_all();
  }
}

void FakeTransport::WaitForIdle() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return stopping_ || (outbox_.empty() && delivering_stream_ == nullptr); });
}

// --- resources and paths ---

void FakeTransport::AddResource(const api::ResourceInfo& r) {
  std::lock_guard lock(mu_);
  custom_.push_back(r);
}

const api::ResourceInfo* FakeTransport::FindResourceLocked(const std::string& group, const std::string& version,
                                                           const std::string& resource) const {
  if (const api::ResourceInfo* r = api::FindResource(group, version, resource)) return r;
  for (const auto& c : custom_) {
    if (c.group == group && c.version == version && c.resource == resource) return &c;
  }
  return nullptr;
}

std::optional<FakeTransport::Parsed> FakeTransport::ParsePath(const std::string& path) const {
  std::vector<std::string> seg;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) seg.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  std::string group, version;
  size_t i;
  if (seg.size() >= 3 && seg[0] == "api") {
    version = seg[1];
    i = 2;
  } else if (seg.size() >= 4 && seg[0] == "apis") {
    group = seg[1];
    version = seg[2];
    i = 3;
  } else {
    return std::nullopt;
  }
  Parsed p;
  if (seg.size() - i >= 3 && seg[i] == "namespaces" && FindResourceLocked(group, version, seg[i + 2])) {
    p.ns = seg[i + 1];
    i += 2;
  }
  p.r = FindResourceLocked(group, version, seg[i]);
  if (!p.r) return std::nullopt;
  if (i + 1 < seg.size()) p.name = seg[i + 1];
  if (i + 2 < seg.size()) p.sub = seg[i + 2];
  if (!p.r->namespaced) p.ns.clear();
  return p;
}

Response FakeTransport::StatusResponse(int code, const std::string& reason, const std::string& message) {
  json::object s{{"kind", "Status"},     {"apiVersion", "v1"}, {"metadata", json::object()},
                 {"status", "Failure"},  {"message", message}, {"reason", reason},
                 {"code", code}};
  return Response{code, json::serialize(s), ""};
}

// --- the store ---

void FakeTransport::Publish(const Change& c) {
  bool any = false;
  for (const auto& s : streams_) {
    if (s->resource_id != c.resource_id || (!s->ns.empty() && s->ns != c.ns)) continue;
    if (!Selected(c.object, s->labels, s->fields)) continue;
    outbox_.emplace_back(s, json::serialize(json::object{{"type", c.type}, {"object", c.object}}));
    any = true;
  }
  if (any) cv_.notify_all();
}

json::object FakeTransport::StoreLocked(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                                        json::object obj, const std::string& type) {
  ++rv_;
  obj["apiVersion"] = r.group_version();
  obj["kind"] = r.kind;
  MetaOf(obj)["resourceVersion"] = std::to_string(rv_);
  auto& table = objects_[ResourceId(r)];
  if (type == "DELETED") table.erase(ObjKey(ns, name));
  else table[ObjKey(ns, name)] = obj;
  Change c{rv_, ResourceId(r), ns, type, obj};
  Publish(c);
  log_.push_back(std::move(c));
  return obj;
}

bool FakeTransport::MaybeFinishDeleteLocked(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                                            json::object& obj) {
  if (!MetaOf(obj).contains("deletionTimestamp") || HasFinalizers(r, obj)) return false;
  obj = StoreLocked(r, ns, name, std::move(obj), "DELETED");
  return true;
}

json::object FakeTransport::Add(json::object obj) {
  const std::string api_version = Str(obj, "apiVersion"), kind = Str(obj, "kind");
  const api::ResourceInfo* found = nullptr;
  {
    std::lock_guard lock(mu_);
    for (const auto& r : api::BuiltinResources()) {
      if (r.group_version() == api_version && r.kind == kind) {
        found = &r;
        break;
      }
    }
    for (const auto& r : custom_) {
      if (!found && r.group_version() == api_version && r.kind == kind) found = &r;
    }
  }
  if (!found) throw std::invalid_argument("FakeTransport::Add: no resource for " + api_version + " " + kind);
  return Add(*found, std::move(obj));
}

json::object FakeTransport::Add(const api::ResourceInfo& r, json::object obj) {
  std::lock_guard lock(mu_);
  auto& m = MetaOf(obj);
  const std::string name = Str(m, "name");
  const std::string ns = r.namespaced ? Str(m, "namespace") : "";
  if (!m.contains("uid")) m["uid"] = NewUid();
  if (!m.contains("creationTimestamp")) m["creationTimestamp"] = api::FormatTime(clock_->Now());
  if (!m.contains("generation")) m["generation"] = 1;
  const bool exists = objects_[ResourceId(r)].count(ObjKey(ns, name)) > 0;
  return StoreLocked(r, ns, name, std::move(obj), exists ? "MODIFIED" : "ADDED");
}

std::optional<json::object> FakeTransport::Get(const api::ResourceInfo& r, const std::string& ns,
                                               const std::string& name) const {
  std::lock_guard lock(mu_);
  auto t = objects_.find(ResourceId(r));
  if (t == objects_.end()) return std::nullopt;
  auto it = t->second.find(ObjKey(r.namespaced ? ns : "", name));
  if (it == t->second.end()) return std::nullopt;
  return it->second;
}

std::vector<json::object> FakeTransport::List(const api::ResourceInfo& r, const std::string& ns) const {
  std::lock_guard lock(mu_);
  std::vector<json::object> out;
  auto t = objects_.find(ResourceId(r));
  if (t == objects_.end()) return out;
  for (const auto& [k, v] : t->second) {
    if (ns.empty() || Str(MetaOf(v), "namespace") == ns) out.push_back(v);
  }
  return out;
}

// --- actions and reactors ---

std::vector<Action> FakeTransport::Actions() const {
  std::lock_guard lock(mu_);
  return actions_;
}

std::vector<Action> FakeTransport::Writes() const {
  std::vector<Action> out;
  for (auto& a : Actions()) {
    if (a.verb != "get" && a.verb != "list" && a.verb != "watch") out.push_back(std::move(a));
  }
  return out;
}

std::vector<Action> FakeTransport::Writes(const std::string& verb, const std::string& resource,
                                          const std::string& subresource) const {
  std::vector<Action> out;
  for (auto& a : Writes()) {
    if (a.verb == verb && a.resource == resource && a.subresource == subresource) out.push_back(std::move(a));
  }
  return out;
}

void FakeTransport::ClearActions() {
  std::lock_guard lock(mu_);
  actions_.clear();
}

void FakeTransport::PrependReactor(const std::string& verb, const std::string& resource, Reactor reactor) {
  std::lock_guard lock(mu_);
  reactors_.insert(reactors_.begin(), ReactorEntry{verb, resource, std::move(reactor)});
}

void FakeTransport::FailWith(const std::string& verb, const std::string& resource, int code, const std::string& reason,
                             const std::string& message) {
  PrependReactor(verb, resource, [=](const Action&) -> std::optional<Response> {
    return StatusResponse(code, reason, message);
  });
}

void FakeTransport::ClearReactors() {
  std::lock_guard lock(mu_);
  reactors_.clear();
}

// --- requests ---

Response FakeTransport::Do(const Request& req) {
  std::optional<Parsed> p;
  {
    std::lock_guard lock(mu_);
    p = ParsePath(req.path);
  }
  if (!p) return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  Action a;
  a.group = p->r->group;
  a.resource = p->r->resource;
  a.ns = p->ns;
  a.name = p->name;
  a.subresource = p->sub;
  if (req.method == "GET") a.verb = p->name.empty() ? (Query(req, "watch") == "true" ? "watch" : "list") : "get";
  else if (req.method == "POST") a.verb = "create";
  else if (req.method == "PUT") a.verb = "update";
  else if (req.method == "PATCH") a.verb = "patch";
  else if (req.method == "DELETE") a.verb = "delete";
  else a.verb = req.method;
  if (a.verb == "patch") {
    const std::string& ct = req.content_type;
    a.patch_type = ct.find("json-patch") != std::string::npos       ? "json"
                   : ct.find("strategic-merge") != std::string::npos ? "strategic"
                   : ct.find("apply-patch") != std::string::npos     ? "apply"
                                                                      : "merge";
  }
  if (!req.body.empty()) {
    boost::system::error_code ec;
    a.body = json::parse(req.body, ec);
    if (ec) a.body = nullptr;
  }

  std::vector<ReactorEntry> reactors;
  {
    std::lock_guard lock(mu_);
    reactors = reactors_;
  }
  std::optional<Response> answer;
  for (const auto& r : reactors) {
    if ((r.verb == "*" || r.verb == a.verb) && (r.resource == "*" || r.resource == a.resource)) {
      answer = r.fn(a);
      if (answer) break;
    }
  }
  std::lock_guard lock(mu_);
  if (!answer) answer = Serve(req, *p, a);
  a.code = answer->code;
  actions_.push_back(std::move(a));
  return *answer;
}

Response FakeTransport::Serve(const Request& req, const Parsed& p, Action& a) {
  const bool writes_object = a.verb == "create" || a.verb == "update";
  if (writes_object && (!a.body.is_object())) return StatusResponse(400, "BadRequest", "the body is not a JSON object");
  if (a.verb == "get") return GetLocked(p);
  if (a.verb == "list") return ListLocked(p, req);
  if (a.verb == "create" && p.name.empty()) return CreateLocked(p, a.body.as_object(), a);
  if (a.verb == "create") return SubresourcePostLocked(p, a.body, a);
  if (a.verb == "update") {
    if (p.sub.empty() || p.sub == "status") return UpdateLocked(p, a.body.as_object(), p.sub == "status", a);
    if (p.sub == "finalize" && p.r->resource == "namespaces") return UpdateLocked(p, a.body.as_object(), false, a);
    return StatusResponse(404, "NotFound", "the fake does not serve " + p.r->resource + "/" + p.sub);
  }
  if (a.verb == "patch") return PatchLocked(p, req, a);
  if (a.verb == "delete") return DeleteLocked(p, a.body, a);
  return StatusResponse(405, "MethodNotAllowed", "method not allowed");
}

Response FakeTransport::GetLocked(const Parsed& p) {
  auto& table = objects_[ResourceId(*p.r)];
  auto it = table.find(ObjKey(p.ns, p.name));
  if (it == table.end()) return StatusResponse(404, "NotFound", Quoted(p.r->resource, p.name) + " not found");
  return Response{200, json::serialize(it->second), ""};
}

Response FakeTransport::ListLocked(const Parsed& p, const Request& req) {
  auto labels = api::LabelSelector::Parse(Query(req, "labelSelector"));
  if (!labels.ok()) return StatusResponse(400, "BadRequest", labels.status().message());
  auto fields = api::FieldSelector::Parse(Query(req, "fieldSelector"));
  if (!fields.ok()) return StatusResponse(400, "BadRequest", fields.status().message());
  json::array items;
  for (const auto& [k, v] : objects_[ResourceId(*p.r)]) {
    if (!p.ns.empty() && Str(MetaOf(v), "namespace") != p.ns) continue;
    if (Selected(v, *labels, *fields)) items.push_back(v);
  }
  json::object list{{"kind", p.r->kind + "List"},
                    {"apiVersion", p.r->group_version()},
                    {"metadata", json::object{{"resourceVersion", std::to_string(rv_)}}},
                    {"items", std::move(items)}};
  return Response{200, json::serialize(list), ""};
}

Response FakeTransport::CreateLocked(const Parsed& p, json::object obj, Action& a) {
  auto& m = MetaOf(obj);
  std::string name = Str(m, "name");
  if (name.empty()) {
    const std::string prefix = Str(m, "generateName");
    if (prefix.empty()) return StatusResponse(422, "Invalid", "name or generateName is required");
    static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    int64_t n = ++name_seq_;
    std::string suffix;
    for (int i = 0; i < 5; ++i, n /= 27) suffix += kAlphabet[n % 27];
    name = prefix + suffix;
    m["name"] = name;
  }
  if (p.r->namespaced) m["namespace"] = p.ns;
  auto& table = objects_[ResourceId(*p.r)];
  if (table.count(ObjKey(p.ns, name))) {
    return StatusResponse(409, "AlreadyExists", Quoted(p.r->resource, name) + " already exists");
  }
  m["uid"] = NewUid();
  m["creationTimestamp"] = api::FormatTime(clock_->Now());
  m["generation"] = 1;
  m.erase("resourceVersion");
  m.erase("deletionTimestamp");
  a.object = StoreLocked(*p.r, p.ns, name, std::move(obj), "ADDED");
  return Response{201, json::serialize(a.object), ""};
}

Response FakeTransport::UpdateLocked(const Parsed& p, json::object obj, bool status, Action& a) {
  auto& table = objects_[ResourceId(*p.r)];
  auto it = table.find(ObjKey(p.ns, p.name));
  if (it == table.end()) return StatusResponse(404, "NotFound", Quoted(p.r->resource, p.name) + " not found");
  const json::object& cur = it->second;
  const std::string rv = Str(MetaOf(obj), "resourceVersion");
  if (!rv.empty() && rv != Str(MetaOf(cur), "resourceVersion")) {
    return StatusResponse(409, "Conflict",
                          "Operation cannot be fulfilled on " + Quoted(p.r->resource, p.name) +
                              ": the object has been modified; please apply your changes to the latest version and "
                              "try again");
  }
  json::object next;
  if (status) {
    next = cur;
    if (auto* s = obj.if_contains("status")) next["status"] = *s;
    else next.erase("status");
  } else if (p.sub == "finalize") {
    next = cur;  // namespaces/<ns>/finalize: only spec.finalizers changes
    json::value& spec = next["spec"];
    if (!spec.is_object()) spec = json::object();
    json::array fin;
    if (auto* s = obj.if_contains("spec"); s && s->is_object()) {
      if (auto* f = s->as_object().if_contains("finalizers"); f && f->is_array()) fin = f->as_array();
    }
    spec.as_object()["finalizers"] = std::move(fin);
  } else {
    next = std::move(obj);
    auto& m = MetaOf(next);
    const auto& cm = MetaOf(cur);
    for (const char* keep : {"uid", "creationTimestamp", "deletionTimestamp", "namespace", "name", "generation"}) {
      if (auto* v = cm.if_contains(keep)) m[keep] = *v;
      else m.erase(keep);
    }
    if (HasStatusSubresource(*p.r)) {
      if (auto* s = cur.if_contains("status")) next["status"] = *s;
      else next.erase("status");
    }
    const json::value* old_spec = cur.if_contains("spec");
    const json::value* new_spec = next.if_contains("spec");
    if ((old_spec == nullptr) != (new_spec == nullptr) || (old_spec && *old_spec != *new_spec)) {
      int64_t gen = 1;
      if (auto* g = cm.if_contains("generation"); g && g->is_int64()) gen = g->as_int64();
      m["generation"] = gen + 1;
    }
  }
  if (MaybeFinishDeleteLocked(*p.r, p.ns, p.name, next)) {
    a.object = next;
    return Response{200, json::serialize(next), ""};
  }
  a.object = StoreLocked(*p.r, p.ns, p.name, std::move(next), "MODIFIED");
  return Response{200, json::serialize(a.object), ""};
}

Response FakeTransport::PatchLocked(const Parsed& p, const Request& req, Action& a) {
  auto& table = objects_[ResourceId(*p.r)];
  auto it = table.find(ObjKey(p.ns, p.name));
  if (it == table.end()) return StatusResponse(404, "NotFound", Quoted(p.r->resource, p.name) + " not found");
  const json::object cur = it->second;
  json::object patched;
  if (a.patch_type == "merge") {
    boost::system::error_code ec;
    json::value patch = json::parse(req.body, ec);
    if (ec) return StatusResponse(400, "BadRequest", "Invalid JSON Patch");
    json::value out = api::ApplyMergePatch(json::value(cur), patch);
    if (!out.is_object()) return StatusResponse(422, "Invalid", "the patch does not make an object");
    patched = std::move(out.as_object());
  } else if (a.patch_type == "strategic") {
    auto out = api::ApplyStrategicMergePatch(json::serialize(cur), req.body,
                                             api::schema::TypeForKind(p.r->group, p.r->version, p.r->kind));
    if (!out.ok()) return StatusResponse(400, "BadRequest", out.status().message());
    patched = std::move(out.value());
  } else if (a.patch_type == "json") {
    auto out = api::ApplyJsonPatch(json::value(cur), req.body);
    if (!out.ok() || !out->is_object()) return StatusResponse(422, "Invalid", "the JSON patch does not apply");
    patched = std::move(out->as_object());
  } else {
    return StatusResponse(415, "UnsupportedMediaType", "the fake does not do server-side apply");
  }
  // A patch that names a resourceVersion is a precondition on it (the garbage collector's
  // pinned patches); otherwise it applies to whatever is current.
  if (p.sub.empty() || p.sub == "status") return UpdateLocked(p, std::move(patched), p.sub == "status", a);
  return StatusResponse(404, "NotFound", "the fake does not serve " + p.r->resource + "/" + p.sub);
}

Response FakeTransport::DeleteLocked(const Parsed& p, const json::value& options, Action& a) {
  auto& table = objects_[ResourceId(*p.r)];
  auto it = table.find(ObjKey(p.ns, p.name));
  if (it == table.end()) return StatusResponse(404, "NotFound", Quoted(p.r->resource, p.name) + " not found");
  json::object obj = it->second;
  auto& m = MetaOf(obj);
  std::string policy;
  if (options.is_object()) {
    const auto& o = options.as_object();
    policy = Str(o, "propagationPolicy");
    if (auto* pre = o.if_contains("preconditions"); pre && pre->is_object()) {
      const std::string uid = Str(pre->as_object(), "uid"), rv = Str(pre->as_object(), "resourceVersion");
      if (!uid.empty() && uid != Str(m, "uid")) {
        return StatusResponse(409, "Conflict",
                              "Precondition failed: UID in precondition: " + uid + ", UID in object meta: " + Str(m, "uid"));
      }
      if (!rv.empty() && rv != Str(m, "resourceVersion")) {
        return StatusResponse(409, "Conflict",
                              "Precondition failed: ResourceVersion in precondition: " + rv +
                                  ", ResourceVersion in object meta: " + Str(m, "resourceVersion"));
      }
    }
  }
  if (m.contains("deletionTimestamp")) {  // already terminating: nothing more to do
    a.object = obj;
    return Response{200, json::serialize(obj), ""};
  }
  const char* add = policy == "Foreground" ? "foregroundDeletion" : policy == "Orphan" ? "orphan" : nullptr;
  if (add) {
    json::value& f = m["finalizers"];
    if (!f.is_array()) f = json::array();
    if (std::find(f.as_array().begin(), f.as_array().end(), json::value(add)) == f.as_array().end()) {
      f.as_array().push_back(json::string(add));
    }
  }
  if (!HasFinalizers(*p.r, obj)) {
    a.object = StoreLocked(*p.r, p.ns, p.name, std::move(obj), "DELETED");
    return Response{200, json::serialize(a.object), ""};
  }
  m["deletionTimestamp"] = api::FormatTime(clock_->Now());
  m["deletionGracePeriodSeconds"] = 0;
  if (p.r->group.empty() && p.r->resource == "namespaces") {
    json::value& st = obj["status"];
    if (!st.is_object()) st = json::object();
    st.as_object()["phase"] = "Terminating";
  }
  a.object = StoreLocked(*p.r, p.ns, p.name, std::move(obj), "MODIFIED");
  return Response{200, json::serialize(a.object), ""};
}

Response FakeTransport::SubresourcePostLocked(const Parsed& p, const json::value& body, Action& a) {
  const bool pods = p.r->group.empty() && p.r->resource == "pods";
  if (pods && (p.sub == "binding" || p.sub == "eviction")) {
    auto& table = objects_[ResourceId(*p.r)];
    auto it = table.find(ObjKey(p.ns, p.name));
    if (it == table.end()) return StatusResponse(404, "NotFound", Quoted(p.r->resource, p.name) + " not found");
    if (p.sub == "eviction") {
      json::value opts;
      if (body.is_object()) {
        if (auto* d = body.as_object().if_contains("deleteOptions")) opts = *d;
      }
      Response r = DeleteLocked(p, opts, a);
      if (r.code != 200) return r;
      return Response{201, json::serialize(json::object{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Success"}, {"code", 201}}), ""};
    }
    json::object pod = it->second;
    std::string node;
    if (body.is_object()) {
      if (auto* t = body.as_object().if_contains("target"); t && t->is_object()) node = Str(t->as_object(), "name");
    }
    json::value& spec = pod["spec"];
    if (!spec.is_object()) spec = json::object();
    spec.as_object()["nodeName"] = node;
    a.object = StoreLocked(*p.r, p.ns, p.name, std::move(pod), "MODIFIED");
    return Response{201, json::serialize(json::object{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Success"}, {"code", 201}}), ""};
  }
  return Response{201, json::serialize(body), ""};
}

std::unique_ptr<WatchStream> FakeTransport::Watch(const Request& req, std::function<void(std::string_view)> on_line,
                                                  std::function<void(Response)> on_end) {
  std::optional<Parsed> p;
  {
    std::lock_guard lock(mu_);
    p = ParsePath(req.path);
  }
  auto labels = api::LabelSelector::Parse(Query(req, "labelSelector"));
  auto fields = api::FieldSelector::Parse(Query(req, "fieldSelector"));
  if (!p || !labels.ok() || !fields.ok()) {
    on_end(StatusResponse(400, "BadRequest", "bad watch request"));
    return nullptr;
  }
  auto s = std::make_shared<Stream>();
  s->resource_id = ResourceId(*p->r);
  s->ns = p->ns;
  s->labels = std::move(*labels);
  s->fields = std::move(*fields);
  s->on_line = std::move(on_line);
  s->on_end = std::move(on_end);
  std::lock_guard lock(mu_);
  Action a;
  a.verb = "watch";
  a.group = p->r->group;
  a.resource = p->r->resource;
  a.ns = p->ns;
  a.code = 200;
  actions_.push_back(std::move(a));
  const std::string from_text = Query(req, "resourceVersion");
  int64_t from = 0;
  try {
    from = from_text.empty() ? 0 : std::stoll(from_text);
  } catch (const std::exception&) {
    from = 0;
  }
  auto emit = [&](const std::string& type, const json::object& obj, const std::string& ns) {
    if (!s->ns.empty() && s->ns != ns) return;
    if (!Selected(obj, s->labels, s->fields)) return;
    outbox_.emplace_back(s, json::serialize(json::object{{"type", type}, {"object", obj}}));
  };
  if (from == 0) {  // "" or "0": the current state as ADDED events, then changes
    for (const auto& [k, v] : objects_[s->resource_id]) emit("ADDED", v, Str(MetaOf(v), "namespace"));
  } else {
    for (const auto& c : log_) {
      if (c.rv > from && c.resource_id == s->resource_id) emit(c.type, c.object, c.ns);
    }
  }
  streams_.push_back(s);
  cv_.notify_all();
  return std::make_unique<StreamHandle>(this, s);
}

}  // namespace kite::client::testing
