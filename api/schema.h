// The one schema source for built-in API types.
//
// Every built-in type (Pod, PodSpec, ObjectMeta, Quantity, ...) is described once, in
// api/schema/builtin.schema (our own text format; see that file's header and
// tools/schema/README.md for where the facts come from). The description carries, per field:
// the JSON name, the protobuf field number, the value type, whether it is a list or a
// string-keyed map, and the strategic-merge-patch strategy and merge key. From it come:
// protobuf request decoding (api/protobuf_decode), strategic merge patch (api/strategic_merge),
// strict field validation (unknown fields), and the OpenAPI v3 documents kubectl explain reads.
//
// Types are named as OpenAPI names them: "io.k8s.api.core.v1.PodSpec",
// "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta". The registry is built once, on first use,
// and never changes afterwards, so the pointers it hands out live for the whole process and
// may be read from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kite::api::schema {

// What a value is on the wire. kMessage values have a Type with fields; the others are leaves
// (the special apimachinery types keep their own JSON forms).
enum class ValueKind : uint8_t {
  kString,
  kBytes,        // JSON: base64 string
  kBool,
  kInt32,
  kInt64,
  kDouble,
  kMessage,      // JSON object with the fields of `type`
  kQuantity,     // resource.Quantity: JSON string ("100m"); protobuf {1: string}
  kIntOrString,  // intstr.IntOrString: JSON int or string; protobuf {1 type, 2 intVal, 3 strVal}
  kTime,         // meta/v1 Time: RFC 3339 string; protobuf {1 seconds, 2 nanos}
  kMicroTime,    // meta/v1 MicroTime: RFC 3339 with microseconds
  kDuration,     // meta/v1 Duration: Go duration string ("1h0m0s"); protobuf {1 duration ns}
  kRawExtension, // runtime.RawExtension: any JSON object; protobuf {1 raw bytes}
  kFieldsV1,     // meta/v1 FieldsV1: any JSON object; protobuf {1 raw bytes}
  kJson,         // free-form JSON value (apiextensions JSON, arbitrary)
};

struct Type;

struct Field {
  std::string name;        // JSON name
  int number = 0;          // protobuf field number
  ValueKind kind = ValueKind::kString;
  const Type* type = nullptr;  // for kMessage (element/value type for lists and maps)
  bool repeated = false;   // JSON array of the value
  bool map = false;        // JSON object from string keys to the value
  bool pointer = false;    // Go pointer scalar: a zero decoded from protobuf is a real value
                           // (replicas: 0), not "unset"
  bool inline_ = false;    // Go embedded struct: protobuf nests `type` under `number`, JSON
                           // puts its fields directly in this object (Volume's volumeSource)
  // Strategic merge patch: "" (atomic replace for lists, recursive merge for maps/objects),
  // "merge", "replace", "retainKeys" or "merge,retainKeys"; and the merge key for lists of
  // objects under "merge" ("name" for containers, "containerPort" for container ports).
  std::string patch_strategy;
  std::string patch_merge_key;

  bool IsList() const { return repeated; }
  bool MergesList() const { return patch_strategy.find("merge") != std::string::npos && repeated; }
  bool RetainsKeys() const { return patch_strategy.find("retainKeys") != std::string::npos; }
};

struct Type {
  std::string name;  // OpenAPI definition name
  ValueKind kind = ValueKind::kMessage;  // kMessage, or a special kind (kQuantity, kTime, ...)
  std::vector<Field> fields;             // in protobuf field-number order
  bool wrapper = false;  // Go named slice (ExtraValue): protobuf {1: repeated items}, JSON the bare array

  // A field by JSON name, looking through inline (embedded) fields too.

  const Field* Find(std::string_view json_name) const;
  const Field* FindNumber(int number) const;  // direct fields only (protobuf nesting)
};

// Looks a type up by OpenAPI name; nullptr when unknown.
const Type* FindType(std::string_view name);

// The top-level type of a kind: ("apps", "v1", "Deployment") → io.k8s.api.apps.v1.Deployment.
// nullptr when the kind has no built-in schema (custom resources).
const Type* TypeForKind(std::string_view group, std::string_view version, std::string_view kind);

// Every type, in file order (OpenAPI generation walks this).
const std::vector<const Type*>& AllTypes();

// The (group, version, kind) a top-level type is served as, when it is one; for OpenAPI's
// x-kubernetes-group-version-kind.
struct GroupVersionKind {
  std::string group, version, kind;
};
std::vector<GroupVersionKind> KindsOf(const Type& t);

}  // namespace kite::api::schema
