// Decoding Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) into the
// JSON object kube-apiserver would have produced from the same Go object.
//
// kubectl 1.32 sends every typed-clientset write (create namespace|configmap|secret|deployment|
// ..., auth can-i, auth whoami, autoscale) as protobuf and does not fall back to JSON on 415, so
// the server decodes these bodies once at the edge and works on JSON from there on. Only
// decoding: responses stay JSON (kubectl accepts application/json in every Accept list).
//
// Wire format: bytes 'k' '8' 's' 0x00, then a runtime.Unknown message
//   {1: TypeMeta {1 apiVersion, 2 kind}, 2: raw (the object), 3: contentEncoding, 4: contentType}
// where raw is the object encoded by gogo-protobuf with the field numbers of api/schema.h.
//
// Contract (values follow the schema's ValueKind):
//  - string, bool, int32, int64, double: JSON strings, booleans and numbers; bytes: base64.
//    Invalid UTF-8 in strings and map keys becomes U+FFFD per byte, as Go's encoding/json
//    writes it (gogo does not check UTF-8, so kube-apiserver accepts such bodies).
//    Gogo writes non-pointer scalars even when zero, so a zero or empty scalar is dropped unless
//    its field is `pointer` (`replicas: 0` is kept). List elements and map values are never
//    dropped (`["", "a"]`, `{"k": ""}` survive).
//  - Nested messages that are present become objects, even when all their fields were dropped
//    (`emptyDir: {}`, `resources: {}`, `strategy: {}`, `spec: {}`) — what Go's JSON says too.
//    `inline` fields (Go embedded structs) put their fields into the enclosing object; `wrapper`
//    types (ExtraValue, Verbs) become the bare array of their items.
//  - Maps are repeated {1 key, 2 value} entries (the last entry for a key wins).
//  - Quantity {1 string} → JSON string ("0" when the string is absent, as for Go's zero value).
//  - IntOrString {1 type, 2 intVal, 3 strVal} → JSON number (type 0) or string (type 1); kept
//    whenever present, because pointer IntOrStrings (`maxUnavailable: 0`) are meaningful at 0.
//  - Time {1 seconds, 2 nanos} → RFC 3339 in UTC at seconds precision; MicroTime the same with
//    six fraction digits. The zero time (Go writes it as an empty message) is dropped
//    (null in a list or map); years outside 0000..9999 are errors.
//  - Duration {1 nanoseconds} → Go's time.Duration string ("1h0m0s", "1.5s", "300ms").
//  - RawExtension, FieldsV1 and free-form JSON {1 raw} → the raw bytes parsed as JSON (an error
//    when they are not JSON); an absent or empty raw is dropped (null in a list or map).
//  - Unknown field numbers are skipped (forward compatible); repeated numeric scalars are
//    accepted both packed and unpacked; a singular field seen twice keeps the last value
//    (messages are not merged).
// Errors are kInvalidArgument: "protobuf envelope: <what>" for the envelope (missing magic,
// truncation, a non-empty contentEncoding, a contentType other than protobuf, no apiVersion or
// kind), "protobuf: no protobuf schema for kind ..." for a kind without a built-in schema (or
// outside the built-in API groups), and "protobuf: <json path>: <what>" inside the object
// (truncated varint or length, invalid field number or wire type, a wire type that does not
// match the schema field, nesting deeper than kMaxProtobufDepth messages, malformed special
// values: IntOrString type other than 0/1, non-JSON raw, non-finite doubles, invalid
// quantities, times outside years 0000..9999).
//
// Where this differs from kube-apiserver's JSON of the same object: zero non-pointer scalars
// are absent even when Go's JSON tag has no omitempty (SelfSubjectAccessReview's
// `status.allowed: false`), and the zero Time is absent rather than null; the server applies its
// defaults to the decoded object exactly as it does to a JSON body.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

#include "api/schema.h"
#include "base/status.h"

namespace kite::api {

// The envelope's first four bytes.
inline constexpr std::string_view kProtobufMagic{"k8s\0", 4};
// The deepest message nesting accepted (real objects stay under 20; recursion is bounded by it).
inline constexpr int kMaxProtobufDepth = 64;

struct DecodedObject {
  std::string api_version, kind;
  boost::json::object object;  // includes "apiVersion" and "kind"
};

// Decodes a k8s protobuf envelope: the kind's schema comes from the envelope's apiVersion/kind
// (schema::TypeForKind).
Result<DecodedObject> DecodeProtobufEnvelope(std::string_view body);

// Decodes one message of schema type `t` (no envelope) into JSON.
Result<boost::json::object> DecodeProtobufMessage(std::string_view bytes, const schema::Type& t);

}  // namespace kite::api
