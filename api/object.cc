#include "api/object.h"

#include <cmath>
#include <limits>

namespace kite::api {

namespace {

const json::object kEmptyObject;
const json::array kEmptyArray;

}  // namespace

const json::value* Find(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

const json::value* Find(const json::object& o, Path path) {
  const json::object* at = &o;
  const json::value* v = nullptr;
  for (std::string_view key : path) {
    if (!at) return nullptr;
    v = Find(*at, key);
    if (!v) return nullptr;
    at = v->if_object();
  }
  return v;
}

const json::object* FindObject(const json::object& o, std::string_view key) {
  const json::value* v = Find(o, key);
  return v ? v->if_object() : nullptr;
}

const json::object* FindObject(const json::object& o, Path path) {
  const json::value* v = Find(o, path);
  return v ? v->if_object() : nullptr;
}

const json::array* FindArray(const json::object& o, std::string_view key) {
  const json::value* v = Find(o, key);
  return v ? v->if_array() : nullptr;
}

const json::array* FindArray(const json::object& o, Path path) {
  const json::value* v = Find(o, path);
  return v ? v->if_array() : nullptr;
}

const json::object& GetObject(const json::object& o, std::string_view key) {
  const json::object* v = FindObject(o, key);
  return v ? *v : kEmptyObject;
}

const json::object& GetObject(const json::object& o, Path path) {
  const json::object* v = FindObject(o, path);
  return v ? *v : kEmptyObject;
}

const json::array& GetArray(const json::object& o, std::string_view key) {
  const json::array* v = FindArray(o, key);
  return v ? *v : kEmptyArray;
}

const json::array& GetArray(const json::object& o, Path path) {
  const json::array* v = FindArray(o, path);
  return v ? *v : kEmptyArray;
}

std::vector<std::string> GetStrings(const json::object& o, std::string_view key) { return AsStrings(GetArray(o, key)); }

std::vector<std::string> GetStrings(const json::object& o, Path path) { return AsStrings(GetArray(o, path)); }

std::string GetString(const json::object& o, std::string_view key) {
  const json::value* v = Find(o, key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string GetString(const json::object& o, Path path) {
  const json::value* v = Find(o, path);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

int64_t AsInt(const json::value& v, int64_t fallback) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    const uint64_t u = v.get_uint64();
    return u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                          : static_cast<int64_t>(u);
  }
  if (v.is_double()) {
    const double d = v.get_double();
    if (std::isnan(d)) return fallback;
    // 2^63 is exactly representable; anything at or beyond it saturates (the cast would be UB).
    if (d >= 9223372036854775808.0) return std::numeric_limits<int64_t>::max();
    if (d <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(d);
  }
  return fallback;
}

const json::object& AsObject(const json::value& v) {
  const json::object* o = v.if_object();
  return o ? *o : kEmptyObject;
}

std::string AsString(const json::value& v) {
  const json::string* s = v.if_string();
  return s ? std::string(*s) : std::string();
}

std::vector<std::string> AsStrings(const json::array& a) {
  std::vector<std::string> out;
  for (const json::value& e : a) {
    if (const json::string* s = e.if_string()) out.emplace_back(*s);
  }
  return out;
}

int64_t GetInt(const json::object& o, std::string_view key, int64_t fallback) {
  const json::value* v = Find(o, key);
  return v ? AsInt(*v, fallback) : fallback;
}

int64_t GetInt(const json::object& o, Path path, int64_t fallback) {
  const json::value* v = Find(o, path);
  return v ? AsInt(*v, fallback) : fallback;
}

bool GetBool(const json::object& o, std::string_view key, bool fallback) {
  const json::value* v = Find(o, key);
  return v && v->is_bool() ? v->get_bool() : fallback;
}

bool GetBool(const json::object& o, Path path, bool fallback) {
  const json::value* v = Find(o, path);
  return v && v->is_bool() ? v->get_bool() : fallback;
}

json::object& MutableObject(json::object& o, std::string_view key) {
  json::value& v = o[key];
  if (!v.is_object()) v = json::object();
  return v.get_object();
}

json::array& MutableArray(json::object& o, std::string_view key) {
  json::value& v = o[key];
  if (!v.is_array()) v = json::array();
  return v.get_array();
}

const json::object& Metadata(const json::object& obj) { return GetObject(obj, "metadata"); }
std::string Name(const json::object& obj) { return GetString(Metadata(obj), "name"); }
std::string Namespace(const json::object& obj) { return GetString(Metadata(obj), "namespace"); }
std::string Uid(const json::object& obj) { return GetString(Metadata(obj), "uid"); }
std::string ResourceVersion(const json::object& obj) { return GetString(Metadata(obj), "resourceVersion"); }
const json::object& Labels(const json::object& obj) { return GetObject(Metadata(obj), "labels"); }
const json::object& Annotations(const json::object& obj) { return GetObject(Metadata(obj), "annotations"); }
bool IsBeingDeleted(const json::object& obj) { return Find(Metadata(obj), "deletionTimestamp") != nullptr; }

}  // namespace kite::api
