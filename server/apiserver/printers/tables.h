// Server-side Table conversion (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), what
// `kubectl get` prints. Columns, their types/formats/priorities and the cell values follow
// upstream's printers (kubernetes pkg/printers/internalversion) for the kinds that have one, and
// upstream's default table convertor (Name + Created At) for the rest. Descriptions are kite's own.
//
// Contract:
//  - WantedTableVersion(accept): walks the Accept header's media ranges in preference order
//    (q-value, then as written) and returns "meta.k8s.io/v1" or "meta.k8s.io/v1beta1" when the
//    first range the server can answer asks for `application/json;as=Table;g=meta.k8s.io;v=...`;
//    "" when a plain representation comes first (application/json, yaml, protobuf, */* without
//    `as=`) or another `as=` conversion is asked for. Table ranges upstream cannot serve (other
//    versions or groups, protobuf/yaml tables) are skipped as upstream's negotiation skips them.
//    When "" is returned the caller serves what it would have served without this module.
//  - ParseIncludeObject(v): "None" | "Metadata" | "Object" (query `includeObject`); "" and any
//    other value give kMetadata (upstream answers an unknown value with 400; see
//    IsValidIncludeObject for callers that want to do the same).
//  - ToTable(r, obj_or_list, include, table_version, now): `obj_or_list` is one object as stored or a
//    list (its kind ends in "List" and it has an "items" array). Returns
//      {"kind":"Table","apiVersion":<table_version>,
//       "metadata":{"resourceVersion":..,"continue":..,"remainingItemCount":..},
//       "columnDefinitions":[{"name","type","format","description","priority"}...],
//       "rows":[{"cells":[...],"conditions":[...],"object":...}]}
//    metadata comes from the list's metadata (resourceVersion, continue, remainingItemCount when
//    set) or, for a single object, its metadata.resourceVersion. Every column is emitted — wide
//    (priority 1) ones included, as upstream's server always generates the wide form; kubectl hides
//    them unless `-o wide`. Cells are strings, integers or booleans exactly where upstream puts
//    them (e.g. a pod's Restarts is the string "3 (5m ago)", a ReplicaSet's Desired an integer).
//    A watch answers each event with a one-row Table of the event's object; upstream sends the
//    column definitions with the first event only (pass no_headers for the later ones).
//    "conditions" appears only on rows upstream marks (pods that Succeeded/Failed: Completed=True).
//    Row object: kMetadata → {"kind":"PartialObjectMetadata","apiVersion":<table_version>,
//    "metadata":<the object's metadata>} (upstream stamps the partial object with the Table's
//    group/version, so "meta.k8s.io/v1" for kubectl's default Accept); kObject → the whole object,
//    with kind/apiVersion filled in from `r` if missing (list items often lack them); kNone → no
//    "object" member.
//    Fields upstream always defaults before storage (spec.replicas, service type, port protocol,
//    cronjob suspend, ...) are read with those defaults when absent, so an object kite stored
//    without defaulting prints as upstream would print it.
//  - HumanAge(ts, now): apimachinery's duration.HumanDuration of now - ts, as translateTimestampSince
//    prints it: "<unknown>" for an empty/null/unparsable/zero (0001-01-01T00:00:00Z) timestamp,
//    "<invalid>" when ts is 2s or more in the future, "0s" for up to 1s in the future; then
//    "59s", "119s", "2m", "3m20s", "9m59s", "10m", "179m", "3h", "7h59m", "8h", "47h", "2d",
//    "7d23h", "8d", "729d", "2y", "7y364d", "8y" (fractions truncated).
// Thread-safety: pure functions over their arguments.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <string>
#include <string_view>

#include "api/resources.h"

namespace kite::apiserver {

// True when the Accept header asks for a meta.k8s.io Table (v1 or v1beta1) before plain JSON.
// Returns the Table apiVersion to answer with ("meta.k8s.io/v1" or "meta.k8s.io/v1beta1") or ""
// when not wanted.
std::string WantedTableVersion(std::string_view accept);

// Query includeObject=None|Metadata|Object; default (and unknown values) Metadata.
enum class IncludeObject { kNone, kMetadata, kObject };
IncludeObject ParseIncludeObject(std::string_view v);
// "", "None", "Metadata" and "Object" are valid; upstream rejects anything else with 400 BadRequest
// `unrecognized includeObject value: "<v>"`.
bool IsValidIncludeObject(std::string_view v);

// Converts a single object, or a List (kind ends in "List", has "items"), of resource `r` into a
// Table (see the contract above). `now` is for the age columns (pass the current time; tests pass
// a fixed one).
// `no_headers`: upstream's TableOptions.NoHeaders, which its watch sets after the first event —
// "columnDefinitions" is then null (as upstream encodes it) and kubectl keeps the first event's.
boost::json::object ToTable(const api::ResourceInfo& r, const boost::json::object& obj_or_list,
                            IncludeObject include, std::string_view table_version,
                            std::chrono::system_clock::time_point now, bool no_headers = false);

// The Table for custom resources (additionalPrinterColumns, or Name + Age).
boost::json::object CustomResourceTable(const api::ResourceInfo& r, const boost::json::object& obj_or_list,
                                        bool include_object_full, bool include_none, const std::string& table_version);

// What a get or list answers under a Table Accept header: CustomResourceTable for custom
// resources, ToTable (at the current time) for built-ins.
boost::json::object ConvertToTable(const api::ResourceInfo& r, const boost::json::object& obj_or_list,
                                   IncludeObject include, const std::string& table_version);

// The human age string upstream prints ("5s", "3m20s", "5m", "2d3h", "<unknown>" ...): same rules as
// apimachinery's duration.HumanDuration / translateTimestampSince.
std::string HumanAge(std::string_view rfc3339_timestamp, std::chrono::system_clock::time_point now);

}  // namespace kite::apiserver
