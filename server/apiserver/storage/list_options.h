// List and watch options from the query string (metav1.ListOptions), and the object filters
// they imply.
//
// - labelSelector: full selector syntax (api/labels.h); a parse error is a 400 BadRequest.
// - fieldSelector: metadata.name and metadata.namespace for every kind, plus the per-kind
//   fields upstream's registries expose (pods: spec.nodeName, status.phase, ...; events:
//   involvedObject.*, ...). Anything else is a 400 "field label not supported: <field>".
// - limit/continue: chunked lists. The continue token is opaque to clients; ours is base64 of
//   {"v":"meta.k8s.io/v1","rv":<revision of the first chunk>,"start":"<next key>"}, so every
//   chunk is read at the first chunk's revision (consistent) until that revision is compacted,
//   which answers 410 Expired.
// - resourceVersion/resourceVersionMatch, timeoutSeconds, allowWatchBookmarks: parsed here,
//   applied by the list and watch paths.
//
// Scalar query parameters are read as upstream's parameter codec reads them, here and by every
// other handler (QueryBool, QueryInt): clients spell booleans differently (the Python client
// sends "True"), and a malformed number is a 400, never a silent 0.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "api/fields.h"
#include "api/labels.h"
#include "api/resources.h"
#include "base/https_server.h"
#include "server/apiserver/status.h"

namespace kite::apiserver {

struct ListOptions {
  api::LabelSelector labels = api::LabelSelector::Everything();
  api::FieldSelector fields = api::FieldSelector::Everything();
  int64_t limit = 0;           // 0 = everything
  std::string continue_key;    // decoded continue token: the key to start at
  int64_t continue_rv = 0;     // and the revision to read at
  std::string resource_version;
  std::string resource_version_match;  // "", "Exact", "NotOlderThan"
  std::optional<int64_t> timeout_seconds;
  bool allow_bookmarks = false;
  bool send_initial_events = false;

  bool Filters() const { return !labels.Empty() || !fields.Empty(); }
};

// A boolean query parameter as upstream's parameter codec reads it (metav1's string-slice to
// bool conversion): absent is false; "0" and "false" in any letter case are false; every other
// value, even an empty one ("?watch" or "?watch="), is true. So "True", "t", "1" are true.
bool QueryBool(const HttpsRequest& req, const std::string& name);

// An int64 query parameter as Go's strconv.ParseInt(s, 10, 64) reads it (optional sign, decimal
// digits, no spaces): nullopt when absent or empty; 400 BadRequest when malformed.
Result<std::optional<int64_t>> QueryInt(const HttpsRequest& req, const std::string& name);

Result<ListOptions> ParseListOptions(const HttpsRequest& req, const api::ResourceInfo& r);

// Whether `obj` (a stored object of resource r) passes the label and field selectors.
bool MatchesListOptions(const ListOptions& o, const api::ResourceInfo& r, const boost::json::object& obj);

// The value of a selectable field of `obj` (nullopt when r does not expose it).
std::optional<std::string> SelectableField(const api::ResourceInfo& r, const boost::json::object& obj,
                                           std::string_view field);

std::string EncodeContinue(int64_t rv, const std::string& next_key);

}  // namespace kite::apiserver
