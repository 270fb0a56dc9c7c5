// Field checks shared by the kinds' strategies (strategy/*.cc), worded like upstream's field
// errors. Covers what users hit in practice; upstream's full validation tables are larger:
// docs/validation.md lists what kite does not enforce.
#pragma once

#include <boost/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "api/object.h"
#include "api/resources.h"
#include "server/apiserver/status.h"

namespace kite::apiserver {

// The causes of one 422 Invalid, in the order found (the message lists them in that order).
class FieldErrors {
 public:
  std::vector<Status::Cause> causes;
  void Add(std::string reason, std::string message, std::string field) {
    causes.push_back({std::move(reason), std::move(message), std::move(field)});
  }
  void Required(const std::string& field) { Add("FieldValueRequired", "Required value", field); }
  void Invalid(const std::string& field, const std::string& value, const std::string& detail) {
    Add("FieldValueInvalid", "Invalid value: " + value + ": " + detail, field);
  }
  void NotSupported(const std::string& field, const std::string& value, std::initializer_list<const char*> supported);
  void Immutable(const std::string& field, const std::string& value) {
    Add("FieldValueInvalid", "Invalid value: " + value + ": field is immutable", field);
  }
};

std::string Quoted(const std::string& s);

// The 422 Invalid that `e` makes for object `obj` of resource `r` ("Service "web" is invalid:
// [field: message, …]", the causes in the details); nullopt when `e` holds nothing.
std::optional<Status> InvalidStatus(const api::ResourceInfo& r, const boost::json::object& obj, const FieldErrors& e);

// Whether `a` and `b` hold the same value at `path` (both missing counts as the same).
bool SameAt(const boost::json::object& a, const boost::json::object& b, std::initializer_list<const char*> path);

// metadata.labels and metadata.annotations (every kind).
void ValidateMeta(const boost::json::object& obj, FieldErrors& e);
// A pod spec at `path` (containers, their names, images and ports; restartPolicy).
void ValidatePodSpec(const boost::json::object* spec, const std::string& path, FieldErrors& e);
// A Service's spec.ports.
void ValidateServicePorts(const boost::json::object& spec, FieldErrors& e);
// ConfigMap and Secret keys under `member` (upstream's IsConfigMapKey).
void ValidateConfigKeys(const boost::json::object& obj, const char* member, FieldErrors& e);
// Upstream's MaxSecretSize (1 MiB) on `total` decoded bytes of data, reported at `field`.
void ValidateDataSize(size_t total, const char* field, FieldErrors& e);
// The bytes of the string values of `member` (decoded when `base64`).
size_t DataBytes(const boost::json::object& obj, const char* member, bool base64);
// The controllers' spec.selector: present, valid, not empty, and matching the template's labels.
void ValidateSelectorMatchesTemplate(const boost::json::object* spec, FieldErrors& e);
// ConfigMap/Secret `immutable: true`: data (and binaryData for ConfigMaps) and the flag itself
// may not change.
void ValidateImmutableData(const boost::json::object& obj, const boost::json::object& old, bool binary_data,
                           FieldErrors& e);

}  // namespace kite::apiserver
