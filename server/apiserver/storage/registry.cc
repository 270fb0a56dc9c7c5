#include "server/apiserver/storage/registry.h"

#include <chrono>
#include <ctime>
#include <random>

#include "api/object.h"
#include "api/time.h"
#include "api/validation.h"

#include "base/clock.h"
#include "server/apiserver/crds/crd_defaults.h"
#include "server/apiserver/storage/event_conversion.h"
#include "server/apiserver/storage/hpa_conversion.h"
#include "server/apiserver/storage/list_walk.h"
#include "server/apiserver/storage/store_await.h"
#include "server/apiserver/strategy/strategy.h"

namespace kite::apiserver {
namespace json = boost::json;
namespace asio = boost::asio;
using datastore::Compare;
using datastore::RequestOp;
using datastore::TxnRequest;

std::string StoragePrefix(const api::ResourceInfo& r, const std::string& ns) {
  // Custom resources live under their group, as upstream stores them.
  std::string p = r.custom ? "/registry/" + r.group + "/" + r.resource + "/" : "/registry/" + r.resource + "/";
  if (r.namespaced && !ns.empty()) p += ns + "/";
  return p;
}

std::string StorageKey(const api::ResourceInfo& r, const std::string& ns, const std::string& name) {
  return StoragePrefix(r, r.namespaced ? ns : "") + name;
}

std::string QualifiedResource(const api::ResourceInfo& r) {
  return r.group.empty() ? r.resource : r.resource + "." + r.group;
}

namespace {

Status WithDetails(Status e, const api::ResourceInfo& r, const std::string& name) {
  Status::Details d = e.details();
  d.name = name;
  d.group = r.group;
  d.kind = r.resource;
  e.set_details(std::move(d));
  return e;
}

std::string RandomString(const char* alphabet, size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string s;
  size_t len = std::char_traits<char>::length(alphabet);
  for (size_t i = 0; i < n; ++i) s += alphabet[rng() % len];
  return s;
}

bool HasFinalizers(const json::object& meta) {
  auto it = meta.find("finalizers");
  return it != meta.end() && it->value().is_array() && !it->value().as_array().empty();
}

// Whether the member `key` is absent from both or equal in both.
bool SameMember(const json::object& a, const json::object& b, std::string_view key) {
  auto ia = a.find(key), ib = b.find(key);
  if (ia == a.end() || ib == b.end()) return ia == a.end() && ib == b.end();
  return ia->value() == ib->value();
}

// a == b but for metadata.resourceVersion, without copying either. status and spec go first: a
// write usually changes one of them, and they are cheaper to walk than metadata.managedFields.
bool SameButResourceVersion(const json::object& a, const json::object& b) {
  if (a.size() != b.size() || !SameMember(a, b, "status") || !SameMember(a, b, "spec")) return false;
  for (const auto& kv : a) {
    const std::string_view key = kv.key();
    if (key == "status" || key == "spec") continue;
    auto ib = b.find(key);
    if (ib == b.end()) return false;
    if (key != "metadata" || !kv.value().is_object() || !ib->value().is_object()) {
      if (!(kv.value() == ib->value())) return false;
      continue;
    }
    const json::object& ma = kv.value().as_object();
    const json::object& mb = ib->value().as_object();
    const size_t na = ma.size() - ma.contains("resourceVersion"), nb = mb.size() - mb.contains("resourceVersion");
    if (na != nb) return false;
    for (const auto& m : ma) {
      if (m.key() == "resourceVersion") continue;
      auto jb = mb.find(m.key());
      if (jb == mb.end() || !(m.value() == jb->value())) return false;
    }
  }
  return true;
}

Result<json::object> Decode(const datastore::KeyValue& kv) {
  boost::system::error_code ec;
  json::value v = json::parse(kv.value_or_empty(), ec);
  if (ec || !v.is_object()) return Status(Code::kDataLoss, "stored object at " + kv.key + " is not JSON");
  json::object o = std::move(v.as_object());
  api::MutableObject(o, "metadata")["resourceVersion"] = std::to_string(kv.mod_revision);
  return o;
}

// The stored form carries no resourceVersion: the datastore's mod_revision is the truth.
std::shared_ptr<const std::string> Encode(json::object obj) {
  api::MutableObject(obj, "metadata").erase("resourceVersion");
  return std::make_shared<const std::string>(json::serialize(obj));
}

// Every object is capped before it is stored, at etcd's request limit (1.5 MiB, which kite's
// etcd endpoint enforces too). kube-apiserver passes etcd's refusal through unmapped: a 500
// whose message is etcd's error text, so that is the answer here as well.
std::optional<Status> TooLargeToStore(const datastore::PutRequest& put) {
  if (static_cast<int64_t>(put.key.size() + put.value->size()) <= datastore::kMaxRequestBytes) return std::nullopt;
  return Status::Api(500, "", "etcdserver: request is too large");
}

Status Invalid(const api::ResourceInfo& r, const std::string& name, const std::string& field,
                 const std::string& detail, const std::string& bad_value, bool required = false) {
  std::string what = required ? "Required value: " + detail : "Invalid value: \"" + bad_value + "\": " + detail;
  Status::Details d;
  d.causes.push_back({required ? "FieldValueRequired" : "FieldValueInvalid", what, field});
  d.name = name;
  d.group = r.group;
  d.kind = r.kind;  // unlike NotFound/AlreadyExists, upstream's Invalid names the kind here
  Status e = Status::Api(422, "Invalid", r.kind + " \"" + name + "\" is invalid: " + field + ": " + what);
  e.set_details(std::move(d));
  return e;
}

}  // namespace

std::string NewUid() {
  std::string hex = RandomString("0123456789abcdef", 32);
  hex[12] = '4';                                            // version 4
  hex[16] = "89ab"[std::string("0123456789abcdef").find(hex[16]) % 4];  // variant 10xx
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

Status NotFound(const api::ResourceInfo& r, const std::string& name) {
  return WithDetails(Status::Api(404, "NotFound", QualifiedResource(r) + " \"" + name + "\" not found"), r, name);
}

Status AlreadyExists(const api::ResourceInfo& r, const std::string& name) {
  return WithDetails(Status::Api(409, "AlreadyExists", QualifiedResource(r) + " \"" + name + "\" already exists"), r, name);
}

Status Conflict(const api::ResourceInfo& r, const std::string& name) {
  return WithDetails(Status::Api(409, "Conflict", "Operation cannot be fulfilled on " + QualifiedResource(r) + " \"" + name +
                                           "\": the object has been modified; please apply your changes to the "
                                           "latest version and try again"),
                     r, name);
}

std::optional<Status> CheckUidPrecondition(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                                           const json::object& obj, const json::object& stored) {
  const std::string want = api::Uid(obj), have = api::Uid(stored);
  if (want.empty() || want == have) return std::nullopt;
  return WithDetails(Status::Api(409, "Conflict", "Operation cannot be fulfilled on " + QualifiedResource(r) + " \"" + name +
                                                      "\": StorageError: invalid object, Code: 4, Key: " +
                                                      StorageKey(r, ns, name) +
                                                      ", ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: "
                                                      "UID in precondition: " + want + ", UID in object meta: " + have),
                     r, name);
}

Result<json::object> Registry::Read(const api::ResourceInfo& r, const std::string& ns, const std::string& name) const {
  datastore::RangeRequest q;
  q.key = StorageKey(r, ns, name);
  auto res = store_->Range(q);
  if (!res.ok()) return InternalError(res.status().message());
  if (res->kvs.empty()) return NotFound(r, name);
  auto obj = Decode(res->kvs[0]);
  if (!obj.ok()) return InternalError(obj.status().message());
  ConvertEventTo(r, obj.value());
  ConvertHpaTo(r, obj.value());
  ApplyCrdDefaults(r, obj.value());
  return std::move(obj.value());
}

asio::awaitable<Result<json::object>> Registry::Get(const api::ResourceInfo& r, const std::string& ns,
                                                   const std::string& name) {
  co_return Read(r, ns, name);
}

asio::awaitable<Result<json::object>> Registry::List(const api::ResourceInfo& r, const std::string& ns,
                                                    const ListOptions& o) {
  // Each candidate is decoded once: `matches` keeps what it decoded, in key order, and the items
  // are the first as many of them as the walk kept.
  std::vector<json::object> decoded;
  auto stored = WalkList(store_, r, ns, o, [&](const datastore::KeyValue& kv) {
    auto obj = Decode(kv);
    if (!obj.ok()) return false;
    ConvertEventTo(r, obj.value());
    ConvertHpaTo(r, obj.value());
    ApplyCrdDefaults(r, obj.value());
    if (!MatchesListOptions(o, r, obj.value())) return false;
    decoded.push_back(std::move(obj.value()));
    return true;
  });
  if (!stored.ok()) co_return stored.error();
  json::array items;
  items.reserve(stored->items.size());
  for (size_t i = 0; i < stored->items.size(); ++i) items.push_back(std::move(decoded[i]));
  json::object list;
  list["kind"] = r.kind + "List";
  list["apiVersion"] = r.group_version();
  list["metadata"] = ListMetadata(*stored);
  list["items"] = std::move(items);
  co_return list;
}

asio::awaitable<Result<int64_t>> Registry::NamespaceUsable(const std::string& ns) {
  const api::ResourceInfo* nsr = api::FindResource("", "v1", "namespaces");
  const std::string cluster_scope;  // named: no temporaries across co_await (g++ 12)
  auto got = co_await Get(*nsr, cluster_scope, ns);
  if (!got.ok()) co_return got.error();
  auto& meta = api::MutableObject(got.value(), "metadata");
  if (meta.contains("deletionTimestamp")) {
    co_return Status::Api(403, "Forbidden",
                       "unable to create new content in namespace " + ns + " because it is being terminated");
  }
  co_return int64_t{0};
}

asio::awaitable<Result<json::object>> Registry::Create(const api::ResourceInfo& r, const std::string& ns,
                                                      json::object obj, bool dry_run) {
  auto& meta = api::MutableObject(obj, "metadata");
  std::string name = api::GetString(meta, "name");
  if (name.empty()) {
    std::string gen = api::GetString(meta, "generateName");
    if (gen.empty()) co_return Invalid(r, "", "metadata.name", "name or generateName is required", "", true);
    name = gen + RandomString("bcdfghjklmnpqrstvwxz2456789", 5);
    meta["name"] = name;
  }
  const Strategy& strategy = StrategyFor(r);
  std::string bad = strategy.ValidateName(name);
  if (!bad.empty()) co_return Invalid(r, name, "metadata.name", bad, name);
  if (r.namespaced) {
    std::string body_ns = api::GetString(meta, "namespace");
    if (!body_ns.empty() && body_ns != ns) {
      co_return BadRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    meta["namespace"] = ns;
    auto usable = co_await NamespaceUsable(ns);
    if (!usable.ok()) co_return usable.error();
  } else {
    meta.erase("namespace");
  }
  obj["apiVersion"] = r.group_version();
  obj["kind"] = r.kind;
  meta["uid"] = NewUid();
  meta["creationTimestamp"] = api::NowTime();
  strategy.PrepareForCreate(obj);
  meta.erase("resourceVersion");
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  if (obj.contains("spec") && strategy.TracksGeneration()) meta["generation"] = 1;
  // Built-in kinds with a status always show one, `{}` before any controller writes it: upstream's
  // typed objects serialize their status struct, and typed clients read job.status.succeeded
  // and the like without checking for it. (Custom resources are stored as written.)
  if (!r.custom && r.Subresource("status") && !obj.contains("status")) obj["status"] = strategy.EmptyStatus(r);
  const std::string key = StorageKey(r, ns, name);
  if (dry_run) {
    auto existing = co_await Get(r, ns, name);
    if (existing.ok()) co_return AlreadyExists(r, name);
    co_return obj;
  }
  TxnRequest t;
  Compare c;
  c.key = key;
  c.target = Compare::Target::kMod;
  c.number = 0;
  t.compare.push_back(c);
  datastore::PutRequest put;
  put.key = key;
  put.value = Encode(obj);
  if (auto e = TooLargeToStore(put)) co_return *e;
  t.success.push_back(RequestOp{std::move(put)});
  auto res = co_await AsyncTxn(store_, std::move(t));
  if (!res.ok()) co_return InternalError(res.status().message());
  if (!res->succeeded) co_return AlreadyExists(r, name);
  meta["resourceVersion"] = std::to_string(res->revision);
  co_return obj;
}

asio::awaitable<Result<json::object>> Registry::Update(const api::ResourceInfo& r, const std::string& ns,
                                                      const std::string& name, json::object obj, UpdateOptions o) {
  auto& meta = api::MutableObject(obj, "metadata");
  std::string body_name = api::GetString(meta, "name");
  if (!body_name.empty() && body_name != name) {
    co_return BadRequest("the name of the object (" + body_name + ") does not match the name on the URL (" + name + ")");
  }
  json::object cur;
  if (o.current) {
    cur = std::move(*o.current);
  } else {
    auto current = co_await Get(r, ns, name);
    if (!current.ok()) co_return current.error();
    cur = std::move(current.value());
  }
  if (auto e = CheckUidPrecondition(r, ns, name, obj, cur)) co_return *e;
  const Strategy& strategy = StrategyFor(r);
  auto& cur_meta = api::MutableObject(cur, "metadata");
  int64_t expected = std::stoll(api::GetString(cur_meta, "resourceVersion"));
  if (std::string rv = api::GetString(meta, "resourceVersion"); !rv.empty()) {
    // Optimistic concurrency: the client must have seen the latest version.
    char* end = nullptr;
    long long want = std::strtoll(rv.c_str(), &end, 10);
    if (*end != '\0' || want != expected) co_return Conflict(r, name);
  }
  // Whether the write changes nothing (then there is no write and the resourceVersion stays;
  // kubectl then says "no change").
  bool unchanged = false;
  if (o.scope == UpdateOptions::Scope::kStatus) {
    // …/status: everything but status comes from the stored object, so only status (and the
    // stored apiVersion/kind, should they differ from the URL's) can change.
    json::value status = nullptr;
    if (auto it = obj.find("status"); it != obj.end()) status = std::move(it->value());
    auto cs = cur.find("status");
    unchanged = status.is_null() ? cs == cur.end() : cs != cur.end() && cs->value() == status;
    obj = std::move(cur);  // `cur` is not used below this branch
    if (status.is_null()) obj.erase("status");
    else obj["status"] = std::move(status);
    unchanged = unchanged && api::GetString(obj, "apiVersion") == r.group_version() && api::GetString(obj, "kind") == r.kind;
    obj["apiVersion"] = r.group_version();
    obj["kind"] = r.kind;
  } else {
    if (o.scope == UpdateOptions::Scope::kMain && r.Subresource("status") && strategy.ResetsStatusOnUpdate()) {
      // The main resource cannot change status for kinds that have a status subresource.
      if (auto it = cur.find("status"); it != cur.end()) obj["status"] = it->value();
      else obj.erase("status");
    }
    auto& m = api::MutableObject(obj, "metadata");
    obj["apiVersion"] = r.group_version();
    obj["kind"] = r.kind;
    m["name"] = name;
    if (r.namespaced) m["namespace"] = ns;
    for (const char* keep : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"}) {
      if (auto it = cur_meta.find(keep); it != cur_meta.end()) m[keep] = it->value();
      else m.erase(keep);
    }
    if ((obj.contains("spec") || cur.contains("spec")) && strategy.TracksGeneration()) {
      int64_t gen = cur_meta.contains("generation") && cur_meta["generation"].is_int64() ? cur_meta["generation"].as_int64() : 1;
      bool changed = !(obj["spec"] == cur["spec"]);
      if (obj["spec"].is_null()) obj.erase("spec");
      m["generation"] = changed ? gen + 1 : gen;
    }
    unchanged = SameButResourceVersion(obj, cur);
  }
  auto& m = api::MutableObject(obj, "metadata");
  // Removing the last finalizer of an object being deleted deletes it, unless its kind holds it
  // longer (a pod in graceful deletion waits for its kubelet; a namespace for its
  // spec.finalizers). deletionGracePeriodSeconds is the stored one in both branches above.
  const bool finish_delete =
      m.contains("deletionTimestamp") && !HasFinalizers(m) && !strategy.DeletionPendingOnUpdate(obj);
  if (unchanged && !finish_delete) {
    if (o.scope == UpdateOptions::Scope::kStatus) co_return obj;  // the stored object, as read
    co_return cur;
  }
  if (o.dry_run) co_return obj;
  TxnRequest t;
  Compare c;
  c.key = StorageKey(r, ns, name);
  c.target = Compare::Target::kMod;
  c.number = expected;
  t.compare.push_back(c);
  if (finish_delete) {
    t.success.push_back(RequestOp{datastore::DeleteRangeRequest{c.key, "", false}});
  } else {
    datastore::PutRequest put;
    put.key = c.key;
    put.value = Encode(obj);
    if (auto e = TooLargeToStore(put)) co_return *e;
    t.success.push_back(RequestOp{std::move(put)});
  }
  auto res = co_await AsyncTxn(store_, std::move(t));
  if (!res.ok()) co_return InternalError(res.status().message());
  if (!res->succeeded) co_return Conflict(r, name);
  m["resourceVersion"] = std::to_string(res->revision);
  co_return obj;
}

asio::awaitable<Result<DeleteResult>> Registry::Delete(const api::ResourceInfo& r, const std::string& ns,
                                                      const std::string& name, DeleteOptions o) {
  // A writer that gets in between the read and the delete makes the delete's transaction fail;
  // as upstream does, read the object again and decide afresh (the preconditions, when given,
  // are checked against each fresh read). The bound only guards against a livelock.
  for (int attempt = 0;; ++attempt) {
    auto d = co_await DeleteOnce(r, ns, name, o);
    if (!d.ok()) co_return d.error();
    if (d.value()) co_return std::move(*d.value());
    if (attempt == kDeleteRetries) co_return Conflict(r, name);
  }
}

asio::awaitable<Result<std::optional<DeleteResult>>> Registry::DeleteOnce(const api::ResourceInfo& r, const std::string& ns,
                                                          const std::string& name, const DeleteOptions& o) {
  auto current = co_await Get(r, ns, name);
  if (!current.ok()) co_return current.error();
  json::object& obj = current.value();
  auto& meta = api::MutableObject(obj, "metadata");
  if (!o.precondition_uid.empty() && o.precondition_uid != api::GetString(meta, "uid")) {
    co_return WithDetails(Status::Api(409, "Conflict", "Operation cannot be fulfilled on " + QualifiedResource(r) + " \"" + name +
                                                "\": Precondition failed: UID in precondition: " + o.precondition_uid +
                                                ", UID in object meta: " + api::GetString(meta, "uid")),
                          r, name);
  }
  if (!o.precondition_resource_version.empty() && o.precondition_resource_version != api::GetString(meta, "resourceVersion")) {
    co_return WithDetails(Status::Api(409, "Conflict", "Operation cannot be fulfilled on " + QualifiedResource(r) + " \"" + name +
                                                "\": Precondition failed: ResourceVersion in precondition: " +
                                                o.precondition_resource_version + ", ResourceVersion in object meta: " +
                                                api::GetString(meta, "resourceVersion")),
                          r, name);
  }
  // Propagation policies other than Background are carried out by the garbage collector, which
  // finds the object by these finalizers.
  auto add_finalizer = [&meta](const char* f) {
    json::value& fl = meta["finalizers"];
    if (!fl.is_array()) fl = json::array();
    for (const auto& v : fl.as_array()) {
      if (v.is_string() && v.as_string() == f) return;
    }
    fl.as_array().push_back(json::string(f));
  };
  if (o.propagation_policy == "Orphan") add_finalizer("orphan");
  if (o.propagation_policy == "Foreground") add_finalizer("foregroundDeletion");
  // The kind's own deletion steps: a grace period (pods on a node), or a state (a namespace
  // turns Terminating).
  const Strategy& strategy = StrategyFor(r);
  const int64_t grace = strategy.BeforeDelete(obj, o.grace_period_seconds);
  const bool pending = HasFinalizers(meta) || grace > 0 || strategy.DeletionPendingOnDelete(obj);
  if (o.dry_run) co_return std::optional<DeleteResult>(DeleteResult{std::move(obj), !pending});
  TxnRequest t;
  Compare c;
  c.key = StorageKey(r, ns, name);
  c.target = Compare::Target::kMod;
  c.number = std::stoll(api::GetString(meta, "resourceVersion"));
  t.compare.push_back(c);
  if (pending) {
    if (!meta.contains("deletionTimestamp")) {
      meta["deletionTimestamp"] = api::FormatTime(kite::Clock::Real()->Now() + std::chrono::seconds(grace));
    }
    meta["deletionGracePeriodSeconds"] = grace;
    datastore::PutRequest put;
    put.key = c.key;
    put.value = Encode(obj);
    if (auto e = TooLargeToStore(put)) co_return *e;
    t.success.push_back(RequestOp{std::move(put)});
  } else {
    t.success.push_back(RequestOp{datastore::DeleteRangeRequest{c.key, "", false}});
  }
  auto res = co_await AsyncTxn(store_, std::move(t));
  if (!res.ok()) co_return InternalError(res.status().message());
  if (!res->succeeded) co_return std::optional<DeleteResult>();  // changed since the read: the caller retries
  if (pending) meta["resourceVersion"] = std::to_string(res->revision);
  co_return std::optional<DeleteResult>(DeleteResult{std::move(obj), !pending});
}

}  // namespace kite::apiserver
