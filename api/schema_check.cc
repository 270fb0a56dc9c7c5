#include "api/schema_check.h"

#include <boost/json.hpp>

namespace kite::api {
namespace json = boost::json;
using schema::Field;
using schema::Type;
using schema::ValueKind;

namespace {

constexpr int kMaxDepth = 100;

const char* JsonTypeName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string: return "string";
    case json::kind::bool_: return "bool";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
    case json::kind::null: return "null";
    default: return "number";
  }
}

const char* GoTypeName(const Field& f) {
  switch (f.kind) {
    case ValueKind::kString: return "string";
    case ValueKind::kBytes: return "[]uint8";
    case ValueKind::kBool: return "bool";
    case ValueKind::kInt32: return "int32";
    case ValueKind::kInt64: return "int64";
    case ValueKind::kDouble: return "float64";
    default: return "object";
  }
}

class Checker {
 public:
  SchemaCheck out;

  Status Object(json::object& o, const Type& t, const std::string& path, int depth) {
    if (depth > kMaxDepth) return Status(Code::kInvalidArgument, "object nesting too deep at " + path);
    for (auto it = o.begin(); it != o.end();) {
      const std::string key(it->key());
      const std::string child = path.empty() ? key : path + "." + key;
      if (depth == 0 && (key == "apiVersion" || key == "kind")) {
        ++it;
        continue;
      }
      const Field* f = t.Find(key);
      if (!f) {
        out.unknown_fields.push_back(child);
        it = o.erase(it);
        continue;
      }
      if (it->value().is_null()) {
        it = o.erase(it);
        continue;
      }
      if (auto s = Value(it->value(), *f, child, depth); !s.ok()) return s;
      ++it;
    }
    return Status::Ok();
  }

 private:
  Status Mismatch(const json::value& v, const Field& f, const std::string& path) {
    return Status(Code::kInvalidArgument, std::string("json: cannot unmarshal ") + JsonTypeName(v) +
                                              " into Go struct field " + path + " of type " +
                                              (f.repeated ? "[]" : "") + GoTypeName(f));
  }

  Status Value(json::value& v, const Field& f, const std::string& path, int depth) {
    if (f.repeated) {
      if (!v.is_array()) return Mismatch(v, f, path);
      auto& a = v.as_array();
      for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].is_null()) continue;
        if (auto s = One(a[i], f, path + "[" + std::to_string(i) + "]", depth); !s.ok()) return s;
      }
      return Status::Ok();
    }
    if (f.map) {
      if (!v.is_object()) return Mismatch(v, f, path);
      for (auto& kv : v.as_object()) {
        if (kv.value().is_null()) continue;
        if (auto s = One(kv.value(), f, path + "[" + std::string(kv.key()) + "]", depth); !s.ok()) return s;
      }
      return Status::Ok();
    }
    return One(v, f, path, depth);
  }

  Status One(json::value& v, const Field& f, const std::string& path, int depth) {
    switch (f.kind) {
      case ValueKind::kString:
      case ValueKind::kBytes:
      case ValueKind::kTime:
      case ValueKind::kMicroTime:
      case ValueKind::kDuration:
        if (!v.is_string()) return Mismatch(v, f, path);
        return Status::Ok();
      case ValueKind::kBool:
        if (!v.is_bool()) return Mismatch(v, f, path);
        return Status::Ok();
      case ValueKind::kInt32:
      case ValueKind::kInt64:
        if (v.is_double()) {
          double d = v.as_double();
          if (d != static_cast<double>(static_cast<int64_t>(d))) return Mismatch(v, f, path);
          v = static_cast<int64_t>(d);
        }
        if (!v.is_int64() && !v.is_uint64()) return Mismatch(v, f, path);
        if (f.kind == ValueKind::kInt32) {
          bool fits = v.is_int64() ? v.as_int64() >= INT32_MIN && v.as_int64() <= INT32_MAX : false;
          if (!fits) {
            return Status(Code::kInvalidArgument, "json: cannot unmarshal number " + json::serialize(v) +
                                                      " into Go struct field " + path + " of type int32");
          }
        }
        return Status::Ok();
      case ValueKind::kDouble:
        if (!v.is_number()) return Mismatch(v, f, path);
        return Status::Ok();
      case ValueKind::kQuantity:
        if (!v.is_string() && !v.is_number()) return Status(Code::kInvalidArgument, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
        return Status::Ok();
      case ValueKind::kIntOrString:
        if (!v.is_string() && !v.is_int64() && !v.is_uint64()) return Mismatch(v, f, path);
        return Status::Ok();
      case ValueKind::kRawExtension:
      case ValueKind::kFieldsV1:
      case ValueKind::kJson:
        return Status::Ok();
      case ValueKind::kMessage:
        if (f.type && f.type->wrapper) {
          if (!v.is_array()) return Mismatch(v, f, path);
          return Status::Ok();
        }
        if (!v.is_object()) return Mismatch(v, f, path);
        return Object(v.as_object(), *f.type, path, depth + 1);
    }
    return Status::Ok();
  }
};

}  // namespace

Result<SchemaCheck> CheckAgainstSchema(json::object& obj, const Type& type) {
  Checker c;
  if (auto s = c.Object(obj, type, "", 0); !s.ok()) return s;
  return std::move(c.out);
}

}  // namespace kite::api
