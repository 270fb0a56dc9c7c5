// Internal to the Table conversion (tables.cc and the tables_*.cc printers): the per-kind
// printers and the small time and formatting helpers they share. Not for other callers; use tables.h.
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/object.h"
#include "api/resources.h"
#include "api/time.h"

namespace kite::apiserver::tables {

namespace json = boost::json;
using Clock = std::chrono::system_clock;

struct Column {
  std::string_view name;
  std::string_view type;    // "string", "integer", "boolean", "date", ...
  std::string_view format;  // "name" for the object's name column, else ""
  std::string_view description;
  int priority = 0;  // 1: shown by `kubectl get -o wide` only
};

struct PrintContext {
  Clock::time_point now;
  const api::ResourceInfo* resource = nullptr;
};

struct PrintedRow {
  json::array cells;
  json::array conditions;  // upstream's TableRowConditions; usually empty
};

using RowPrinter = PrintedRow (*)(const json::object& obj, const PrintContext& ctx);

struct Printer {
  std::span<const Column> columns;
  RowPrinter print;
};

// The printer upstream registers for this resource, or nullptr when it uses the default
// convertor (Name, Created At). Keyed by API group and plural resource name, so every version of
// a resource shares one printer.
const Printer* FindPrinter(std::string_view group, std::string_view resource);

struct PrinterEntry {
  std::string_view group, resource;
  Printer printer;
};
// The printers of the other files, one per API group or family; FindPrinter (tables_kinds.cc)
// searches them after its own: pods and workloads (tables_workloads.cc), services and networking
// (tables_networking.cc), volumes and storage classes (tables_storage.cc), CSRs
// (tables_certificates.cc).
std::span<const PrinterEntry> WorkloadPrinters();
std::span<const PrinterEntry> NetworkingPrinters();
std::span<const PrinterEntry> StoragePrinters();
std::span<const PrinterEntry> CertificatePrinters();

// Columns many kinds share.
inline constexpr Column kNameCol{"Name", "string", "name",
                                 "Name of the object, unique within its namespace (or cluster, if cluster-scoped).", 0};
inline constexpr Column kAgeCol{"Age", "string", "", "Time since the object was created.", 0};
inline constexpr Column kContainersWide{"Containers", "string", "", "Names of the containers in the pod template.",
                                        1};
inline constexpr Column kImagesWide{"Images", "string", "", "Container images used by the pod template.", 1};
inline constexpr Column kSelectorWide{"Selector", "string", "", "Label selector for the pods this object manages.",
                                      1};

// ---- time ----------------------------------------------------------------------------------------

// A point in time with Go's range (year 1 and beyond), read by api::ParseRfc3339.
using Instant = api::Instant;
// Go's zero time.Time (0001-01-01T00:00:00Z), which metav1.Time treats as unset.
bool IsGoZeroTime(const Instant& t);
// to - from, saturated to the int64 nanosecond range as Go's Time.Sub does.
std::chrono::nanoseconds Between(const Instant& from, const Instant& to);
Instant FromClock(Clock::time_point t);
// UTC, whole seconds: Go's t.UTC().Format(time.RFC3339).
std::string FormatRfc3339(const Instant& t);
// apimachinery duration.HumanDuration.
std::string HumanDuration(std::chrono::nanoseconds d);
// translateTimestampSince for a timestamp member: missing, null, "" or zero give "<unknown>".
std::string AgeOf(const json::value* ts, Clock::time_point now);

// ---- reading objects -----------------------------------------------------------------------------
// Members are read with api/object.h's accessors (the one family); what follows is only what
// printing adds on top of them.

// Number of members of an object member or elements of an array member (0 when absent or
// another type): counts that upstream's printers take with len() (ConfigMap data, Secret data).
size_t Size(const json::object& o, std::string_view key);

// ---- object accessors and row building -----------------------------------------------------------

// translateTimestampSince(creationTimestamp)
std::string Age(const json::object& o, const PrintContext& ctx);
// A metav1.Time member: nullopt when absent, null, unparsable or Go's zero time.
std::optional<Instant> Time(const json::object& o, std::string_view key);
bool After(const Instant& a, const Instant& b);
// The first condition of `type` in a conditions array (nullptr when none) / whether its status
// is "True".
const json::object* Condition(const json::array& conditions, std::string_view type);
bool ConditionTrue(const json::array& conditions, std::string_view type);
PrintedRow Row(std::initializer_list<json::value> cells);
void Append(PrintedRow& r, std::initializer_list<json::value> cells);
std::string NoneIfEmpty(std::string s);
std::string Ratio(int64_t a, int64_t b);  // "a/b"

// ---- upstream's formatting helpers ---------------------------------------------------------------

// labels.FormatLabels: "k1=v1,k2=v2" sorted by key, "<none>" when empty.
std::string FormatLabels(const json::object& labels);
// metav1.FormatLabelSelector: the selector's canonical string, "<none>" when it is empty,
// "<error>" when invalid.
std::string FormatLabelSelector(const json::value* selector);
// The selector's canonical string ("" for an empty one), "<invalid>" when invalid (printDeployment).
std::string LabelSelectorString(const json::value* selector);
// intstr.IntOrString.String().
std::string IntOrString(const json::value* v);
// resource.Quantity.String() of a quantity member (canonical form); "0" when absent.
std::string QuantityString(const json::value* v);
// Container names and images of a pod spec, comma-joined (layoutContainerCells).
void ContainerCells(const json::object& pod_spec, std::string* names, std::string* images);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string ToLower(std::string_view s);

}  // namespace kite::apiserver::tables
