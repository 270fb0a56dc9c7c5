// Lenient reads of Kubernetes objects held as Boost.JSON: the one family of accessors every
// component uses (controllers, scheduler, API server, kubelet, proxy, DNS).
//
// Contract:
//  - Every Get* function reads a member of an object, or the member at the end of a path of
//    keys ({"spec", "template", "metadata"}), and never throws: a member that is absent, null,
//    or of another JSON type (at any step of the path) reads as the empty/zero value — "" for a
//    string, an empty object or array, 0 / false (or the fallback given) for a number or flag.
//    Objects from the API server are already validated; the caller asks for the shape it needs
//    and treats "not there" and "not that" alike, as Go's typed structs do with zero values.
//  - GetObject/GetArray return a reference into `o` (or to a static empty value that lives for
//    the program): valid while `o` is alive and unmodified. GetString returns a copy.
//  - GetInt accepts any JSON number: int64 as is, uint64 saturated to INT64_MAX, double
//    truncated toward zero and saturated to the int64 range (NaN reads as the fallback).
//  - Find* tell presence apart from emptiness: nullptr when the member (or a step of the path)
//    is absent, null, or of another type.
//  - MutableObject/MutableArray are the writing side: they return the member, first making it
//    an empty object/array when it is absent or of another type (as defaulting needs).
// Thread-safety: pure functions over the caller's values; safe for concurrent reads.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace kite::api {

namespace json = boost::json;

// A path of member names from an object down to a member: {"spec", "template", "spec"}.
using Path = std::initializer_list<std::string_view>;

// ---- presence --------------------------------------------------------------------------------

const json::value* Find(const json::object& o, std::string_view key);
const json::value* Find(const json::object& o, Path path);
const json::object* FindObject(const json::object& o, std::string_view key);
const json::object* FindObject(const json::object& o, Path path);
const json::array* FindArray(const json::object& o, std::string_view key);
const json::array* FindArray(const json::object& o, Path path);

// ---- lenient typed reads ---------------------------------------------------------------------

const json::object& GetObject(const json::object& o, std::string_view key);
const json::object& GetObject(const json::object& o, Path path);
const json::array& GetArray(const json::object& o, std::string_view key);
const json::array& GetArray(const json::object& o, Path path);
std::string GetString(const json::object& o, std::string_view key);
std::string GetString(const json::object& o, Path path);
int64_t GetInt(const json::object& o, std::string_view key, int64_t fallback = 0);
int64_t GetInt(const json::object& o, Path path, int64_t fallback = 0);
bool GetBool(const json::object& o, std::string_view key, bool fallback = false);
bool GetBool(const json::object& o, Path path, bool fallback = false);
// A list of strings (verbs, groups, finalizers, a command): the array's string elements, others
// skipped; empty when the member is missing or not an array.
std::vector<std::string> GetStrings(const json::object& o, std::string_view key);
std::vector<std::string> GetStrings(const json::object& o, Path path);

// A JSON value as an integer with GetInt's rules; fallback when it is not a number.
int64_t AsInt(const json::value& v, int64_t fallback = 0);
// A JSON value (an array element, a map value) as an object / a string: the empty object / ""
// when it is of another type. AsObject's reference lives as GetObject's does.
const json::object& AsObject(const json::value& v);
std::string AsString(const json::value& v);
// An array's string elements (others skipped), as GetStrings reads a member.
std::vector<std::string> AsStrings(const json::array& a);

// ---- writing ---------------------------------------------------------------------------------

json::object& MutableObject(json::object& o, std::string_view key);
json::array& MutableArray(json::object& o, std::string_view key);

// ---- object metadata (metav1.ObjectMeta) -----------------------------------------------------

const json::object& Metadata(const json::object& obj);
std::string Name(const json::object& obj);
std::string Namespace(const json::object& obj);
std::string Uid(const json::object& obj);
std::string ResourceVersion(const json::object& obj);
const json::object& Labels(const json::object& obj);
const json::object& Annotations(const json::object& obj);
// metadata.deletionTimestamp is set: the object is being deleted (finalizers pending).
bool IsBeingDeleted(const json::object& obj);

}  // namespace kite::api
