// What a watch changes in the objects it shows, so that they read as Get and List return them:
// an Event stored through the other Event API is converted to the watched version
// (event_conversion.h) and a custom resource gets its schema's defaults (crd_defaults.h). The
// same functions as Get and List are used, on the object decoded from the text the watch cache
// shows (resourceVersion already set), and the result is encoded again.
//
// Every other watch — most of them: built-in kinds but Event, custom resources whose schema has
// no `default:` — is not `active()` and shows the cache's text untouched (the stored_json.h fast
// path). An active transform decodes each object it shows, and each object its field selectors
// look at (a selector matches the converted/defaulted object, as List's does).
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "api/resources.h"

namespace kite::apiserver {

class WatchTransform {
 public:
  explicit WatchTransform(const api::ResourceInfo& r);

  // Whether objects of this watch may need a change at all.
  bool active() const { return events_ || defaults_; }

  // `object_json` (one JSON object) as r's Get would show it: the new text, or nullopt when it
  // is to be shown as it is (inactive, an Event already in r's version, or not a JSON object).
  std::optional<std::string> Apply(std::string_view object_json) const;

  // `text` decoded and changed as Apply changes it (for field selectors); nullopt when `text`
  // is not a JSON object.
  std::optional<boost::json::object> Decode(std::string_view text) const;

 private:
  // Whether the decoded `obj` needs changing (an Event in the other version, or defaults).
  bool Needs(const boost::json::object& obj) const;
  // Changes `obj` as Get and List do; false when it needed no change.
  bool Change(boost::json::object& obj) const;

  const api::ResourceInfo& r_;
  const bool events_;    // r is one of the two Event resources
  const bool defaults_;  // r is a custom resource whose schema has defaults
};

}  // namespace kite::apiserver
