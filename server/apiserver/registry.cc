#include "server/apiserver/registry.h"

#include <chrono>
#include <ctime>
#include <random>
#include <regex>

#include "server/apiserver/store_await.h"

namespace kite::apiserver {
namespace json = boost::json;
namespace asio = boost::asio;
using datastore::Compare;
using datastore::RequestOp;
using datastore::TxnRequest;

std::string StoragePrefix(const api::ResourceInfo& r, const std::string& ns) {
  std::string p = "/registry/" + r.resource + "/";
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

ApiError WithDetails(ApiError e, const api::ResourceInfo& r, const std::string& name) {
  e.name = name;
  e.group = r.group;
  e.kind = r.resource;
  return e;
}

std::string RandomString(const char* alphabet, size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string s;
  size_t len = std::char_traits<char>::length(alphabet);
  for (size_t i = 0; i < n; ++i) s += alphabet[rng() % len];
  return s;
}

json::object& Meta(json::object& obj) {
  json::value& m = obj["metadata"];
  if (!m.is_object()) m = json::object();
  return m.as_object();
}

std::string Str(const json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

Result<json::object> Decode(const datastore::KeyValue& kv) {
  boost::system::error_code ec;
  json::value v = json::parse(kv.value_or_empty(), ec);
  if (ec || !v.is_object()) return Status(Code::kDataLoss, "stored object at " + kv.key + " is not JSON");
  json::object o = std::move(v.as_object());
  Meta(o)["resourceVersion"] = std::to_string(kv.mod_revision);
  return o;
}

// The stored form carries no resourceVersion: the datastore's mod_revision is the truth.
std::shared_ptr<const std::string> Encode(json::object obj) {
  Meta(obj).erase("resourceVersion");
  return std::make_shared<const std::string>(json::serialize(obj));
}

ApiError Invalid(const api::ResourceInfo& r, const std::string& name, const std::string& field,
                 const std::string& detail, const std::string& bad_value, bool required = false) {
  ApiError e;
  e.code = 422;
  e.reason = "Invalid";
  std::string what = required ? "Required value: " + detail : "Invalid value: \"" + bad_value + "\": " + detail;
  e.message = r.kind + " \"" + name + "\" is invalid: " + field + ": " + what;
  e.causes.push_back({required ? "FieldValueRequired" : "FieldValueInvalid", what, field});
  e = WithDetails(e, r, name);
  e.kind = r.kind;  // unlike NotFound/AlreadyExists, upstream's Invalid names the kind here
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

std::string NowRfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

ApiError NotFound(const api::ResourceInfo& r, const std::string& name) {
  return WithDetails({404, "NotFound", QualifiedResource(r) + " \"" + name + "\" not found"}, r, name);
}

ApiError AlreadyExists(const api::ResourceInfo& r, const std::string& name) {
  return WithDetails({409, "AlreadyExists", QualifiedResource(r) + " \"" + name + "\" already exists"}, r, name);
}

ApiError Conflict(const api::ResourceInfo& r, const std::string& name) {
  return WithDetails({409, "Conflict", "Operation cannot be fulfilled on " + QualifiedResource(r) + " \"" + name +
                                           "\": the object has been modified; please apply your changes to the "
                                           "latest version and try again"},
                     r, name);
}

std::string ValidateDnsSubdomain(const std::string& v) {
  static const std::regex re("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  if (v.size() > 253) return "must be no more than 253 characters";
  if (!std::regex_match(v, re)) {
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
           "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  }
  return "";
}

std::string ValidateDnsLabel(const std::string& v) {
  static const std::regex re("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  if (v.size() > 63) return "must be no more than 63 characters";
  if (!std::regex_match(v, re)) {
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
           "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
  }
  return "";
}

asio::awaitable<ApiOr<json::object>> Registry::Get(const api::ResourceInfo& r, const std::string& ns,
                                                   const std::string& name) {
  datastore::RangeRequest q;
  q.key = StorageKey(r, ns, name);
  auto res = store_->Range(q);
  if (!res.ok()) co_return InternalError(res.status().message());
  if (res->kvs.empty()) co_return NotFound(r, name);
  auto obj = Decode(res->kvs[0]);
  if (!obj.ok()) co_return InternalError(obj.status().message());
  co_return std::move(obj.value());
}

asio::awaitable<ApiOr<json::object>> Registry::List(const api::ResourceInfo& r, const std::string& ns) {
  datastore::RangeRequest q;
  q.key = StoragePrefix(r, ns);
  q.range_end = q.key;
  q.range_end.back()++;
  auto res = store_->Range(q);
  if (!res.ok()) co_return InternalError(res.status().message());
  json::array items;
  for (const auto& kv : res->kvs) {
    auto obj = Decode(kv);
    if (obj.ok()) items.push_back(std::move(obj.value()));
  }
  json::object list;
  list["kind"] = r.kind + "List";
  list["apiVersion"] = r.group_version();
  list["metadata"] = json::object{{"resourceVersion", std::to_string(res->revision)}};
  list["items"] = std::move(items);
  co_return list;
}

asio::awaitable<ApiOr<int64_t>> Registry::NamespaceUsable(const std::string& ns) {
  const api::ResourceInfo* nsr = api::FindResource("", "v1", "namespaces");
  auto got = co_await Get(*nsr, "", ns);
  if (!got.ok()) co_return got.error();
  auto& meta = Meta(got.value());
  if (meta.contains("deletionTimestamp")) {
    co_return ApiError{403, "Forbidden",
                       "unable to create new content in namespace " + ns + " because it is being terminated"};
  }
  co_return int64_t{0};
}

asio::awaitable<ApiOr<json::object>> Registry::Create(const api::ResourceInfo& r, const std::string& ns,
                                                      json::object obj, bool dry_run) {
  auto& meta = Meta(obj);
  std::string name = Str(meta, "name");
  if (name.empty()) {
    std::string gen = Str(meta, "generateName");
    if (gen.empty()) co_return Invalid(r, "", "metadata.name", "name or generateName is required", "", true);
    name = gen + RandomString("bcdfghjklmnpqrstvwxz2456789", 5);
    meta["name"] = name;
  }
  std::string bad = r.resource == "namespaces" ? ValidateDnsLabel(name) : ValidateDnsSubdomain(name);
  if (!bad.empty()) co_return Invalid(r, name, "metadata.name", bad, name);
  if (r.namespaced) {
    std::string body_ns = Str(meta, "namespace");
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
  meta["creationTimestamp"] = NowRfc3339();
  meta.erase("resourceVersion");
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  if (obj.contains("spec")) meta["generation"] = 1;
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
  t.success.push_back(RequestOp{std::move(put)});
  auto res = co_await AsyncTxn(store_, std::move(t));
  if (!res.ok()) co_return InternalError(res.status().message());
  if (!res->succeeded) co_return AlreadyExists(r, name);
  meta["resourceVersion"] = std::to_string(res->revision);
  co_return obj;
}

asio::awaitable<ApiOr<json::object>> Registry::Update(const api::ResourceInfo& r, const std::string& ns,
                                                      const std::string& name, json::object obj, bool dry_run) {
  auto& meta = Meta(obj);
  std::string body_name = Str(meta, "name");
  if (!body_name.empty() && body_name != name) {
    co_return BadRequest("the name of the object (" + body_name + ") does not match the name on the URL (" + name + ")");
  }
  auto current = co_await Get(r, ns, name);
  if (!current.ok()) co_return current.error();
  auto& cur_meta = Meta(current.value());
  int64_t expected = std::stoll(Str(cur_meta, "resourceVersion"));
  if (std::string rv = Str(meta, "resourceVersion"); !rv.empty()) {
    // Optimistic concurrency: the client must have seen the latest version.
    char* end = nullptr;
    long long want = std::strtoll(rv.c_str(), &end, 10);
    if (*end != '\0' || want != expected) co_return Conflict(r, name);
  }
  obj["apiVersion"] = r.group_version();
  obj["kind"] = r.kind;
  meta["name"] = name;
  if (r.namespaced) meta["namespace"] = ns;
  for (const char* keep : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"}) {
    if (auto it = cur_meta.find(keep); it != cur_meta.end()) meta[keep] = it->value();
    else meta.erase(keep);
  }
  if (obj.contains("spec") || current.value().contains("spec")) {
    int64_t gen = cur_meta.contains("generation") && cur_meta["generation"].is_int64() ? cur_meta["generation"].as_int64() : 1;
    bool changed = !(obj["spec"] == current.value()["spec"]);
    meta["generation"] = changed ? gen + 1 : gen;
  }
  if (dry_run) co_return obj;
  TxnRequest t;
  Compare c;
  c.key = StorageKey(r, ns, name);
  c.target = Compare::Target::kMod;
  c.number = expected;
  t.compare.push_back(c);
  datastore::PutRequest put;
  put.key = c.key;
  put.value = Encode(obj);
  t.success.push_back(RequestOp{std::move(put)});
  auto res = co_await AsyncTxn(store_, std::move(t));
  if (!res.ok()) co_return InternalError(res.status().message());
  if (!res->succeeded) co_return Conflict(r, name);
  meta["resourceVersion"] = std::to_string(res->revision);
  co_return obj;
}

asio::awaitable<ApiOr<json::object>> Registry::Delete(const api::ResourceInfo& r, const std::string& ns,
                                                      const std::string& name, bool dry_run) {
  auto current = co_await Get(r, ns, name);
  if (!current.ok()) co_return current.error();
  if (dry_run) co_return std::move(current.value());
  TxnRequest t;
  Compare c;
  c.key = StorageKey(r, ns, name);
  c.target = Compare::Target::kMod;
  c.number = std::stoll(Str(Meta(current.value()), "resourceVersion"));
  t.compare.push_back(c);
  t.success.push_back(RequestOp{datastore::DeleteRangeRequest{c.key, "", false}});
  auto res = co_await AsyncTxn(store_, std::move(t));
  if (!res.ok()) co_return InternalError(res.status().message());
  if (!res->succeeded) co_return Conflict(r, name);
  co_return std::move(current.value());
}

}  // namespace kite::apiserver
