// Helpers shared by the two halves of the fake API (client/testing/fake_transport.h): the
// request side (fake_transport.cc: routing, lists, watches, actions) and the store side
// (fake_store.cc: what each write does to the stored objects). Objects are read through
// api/object.h's accessors like everywhere else. Not for use elsewhere.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "api/fields.h"
#include "api/object.h"
#include "api/labels.h"
#include "api/resources.h"
#include "client/transport.h"

namespace kite::client::fake_objects {
namespace json = boost::json;

inline std::string Query(const Request& req, std::string_view key) {
  for (const auto& [k, v] : req.query) {
    if (k == key) return v;
  }
  return "";
}

inline std::string ResourceId(const api::ResourceInfo& r) { return r.group + "/" + r.resource; }

inline std::string ObjKey(const std::string& ns, const std::string& name) { return ns + "/" + name; }

inline bool HasStatusSubresource(const api::ResourceInfo& r) { return r.Subresource("status") != nullptr; }

// The finalizers that hold an object's deletion (a namespace's spec.finalizers too).
inline bool HasFinalizers(const api::ResourceInfo& r, const json::object& obj) {
  const auto& m = api::Metadata(obj);
  if (auto* f = m.if_contains("finalizers"); f && f->is_array() && !f->as_array().empty()) return true;
  if (r.group.empty() && r.resource == "namespaces") {
    if (auto* s = obj.if_contains("spec"); s && s->is_object()) {
      if (auto* f = s->as_object().if_contains("finalizers"); f && f->is_array() && !f->as_array().empty()) return true;
    }
  }
  return false;
}

// A field selector's view of an object: metadata.name / metadata.namespace and any dotted path.
inline std::optional<std::string> FieldOf(const json::object& obj, std::string_view field) {
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

inline bool Selected(const json::object& obj, const api::LabelSelector& labels, const api::FieldSelector& fields) {
  static const json::object kNoLabels;
  const auto& m = api::Metadata(obj);
  const auto* l = m.if_contains("labels");
  if (!labels.Matches(l && l->is_object() ? l->as_object() : kNoLabels)) return false;
  return fields.Matches([&](std::string_view f) { return FieldOf(obj, f); });
}

inline std::string NewUid() {
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

inline std::string Quoted(const std::string& resource, const std::string& name) {
  return resource + " \"" + name + "\"";
}

// The answer of a successful subresource POST (pods/binding, pods/eviction).
inline Response Success() {
  json::object s{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Success"}, {"code", 201}};
  return Response{201, json::serialize(s), ""};
}

}  // namespace kite::client::fake_objects
