// The request half of the fake API: routing, reads, watches, recorded actions and reactors (the
// writes are in fake_store.cc).
#include "client/testing/fake_transport.h"

#include <atomic>

#include "client/testing/fake_objects.h"

namespace kite::client::testing {
namespace json = boost::json;
using namespace fake_objects;

std::string Action::Describe() const {
  return verb + " " + resource + (subresource.empty() ? "" : "/" + subresource);
}

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

// --- watch fan-out ---

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
    if (!p.ns.empty() && api::GetString(api::Metadata(v), "namespace") != p.ns) continue;
    if (Selected(v, *labels, *fields)) items.push_back(v);
  }
  json::object list{{"kind", p.r->kind + "List"},
                    {"apiVersion", p.r->group_version()},
                    {"metadata", json::object{{"resourceVersion", std::to_string(rv_)}}},
                    {"items", std::move(items)}};
  return Response{200, json::serialize(list), ""};
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
    for (const auto& [k, v] : objects_[s->resource_id]) emit("ADDED", v, api::GetString(api::Metadata(v), "namespace"));
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
