// Output made from stored objects' text without decoding or copying it, for the answers that
// carry many objects: a watch's initial state and events (watch_handler.h) and a LIST streamed
// from the store (list_stream.h).
//
// - PendingOutput: text waiting to be written, as pieces that borrow from the immutable shared
//   strings the store and the watch cache hold; bytes are copied only into the chunk taken for
//   one write.
// - EventWriter: a watch's event lines, in the format asked for (plain objects or one-row
//   Tables), with the watch's transform (Event versions, CRD defaults) applied where it is active.
// - Selection: label and field selectors applied to stored text (labels read off the text or
//   given, metadata.name/namespace off the key, other fields from the decoded object).
// Not thread-safe: each belongs to one request.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "api/resources.h"
#include "datastore/store.h"
#include "server/apiserver/handlers/watch_handler.h"
#include "server/apiserver/status.h"
#include "server/apiserver/storage/list_options.h"
#include "server/apiserver/storage/watch_cache.h"
#include "server/apiserver/storage/watch_transform.h"

namespace kite::apiserver {

// Event lines waiting to be written. Objects are not copied into them: a piece borrows from an
// immutable shared string (a cache event's text, a stored value) and keeps it alive, and bytes
// are copied only into the chunk being written.
class PendingOutput {
 public:
  void Add(std::string text);
  // (*shared)[begin, end).
  void Add(std::shared_ptr<const std::string> shared, size_t begin, size_t end);
  // Text that lives for the whole process (a literal).
  void AddLiteral(std::string_view text);
  size_t size() const { return size_; }
  // Up to `max` bytes from the front.
  std::string Take(size_t max);

 private:
  struct Piece {
    std::shared_ptr<const std::string> shared;  // null: `literal` or else `owned` holds the text
    std::string owned;
    std::string_view literal;
    size_t begin, end;
  };
  std::deque<Piece> pieces_;
  size_t size_ = 0;
};

// Turns objects into event lines in the requested format, changed as `transform` says (Event
// versions, CRD defaults) or else borrowing the cache's text.
struct EventWriter {
  const api::ResourceInfo& r;
  const WatchFormat& format;
  const WatchTransform& transform;
  bool sent_headers = false;

  // A cache event's object (`text`: its object_json, sharing the event's ownership).
  void Line(const char* type, std::shared_ptr<const std::string> text, PendingOutput* out);

  // A stored object, as ShowStored shows it.
  void Line(const char* type, const datastore::Value& stored, const ShownObject& shown, PendingOutput* out);

 private:
  // An object's whole text, made for this line.
  void Owned(const char* type, std::string text, PendingOutput* out);

  static void AddHead(const char* type, PendingOutput* out);
  static void AddTail(PendingOutput* out);

  std::string TableLine(const char* type, std::string_view object_json);
};

std::string ErrorLine(const Status& e);

// The label and field selectors, applied to stored text. Labels come pre-extracted with cache
// events; metadata.name/namespace are read off the key; other fields need the object decoded
// (only for watchers that ask for them), and changed as the watch shows it (as List matches the
// converted/defaulted object).
class Selection {
 public:
  Selection(const ListOptions& o, const api::ResourceInfo& r, const WatchTransform& transform);

  // `labels`: the object's metadata.labels when known (else read from `text`).
  bool Matches(std::string_view key, std::string_view text, const boost::json::object* labels) const;

  // The event's object before (`before`) or after it.
  bool Matches(const CachedEvent& e, bool before) const;

 private:
  const ListOptions& o_;
  const api::ResourceInfo& r_;
  const WatchTransform& transform_;
  const std::string all_prefix_;
  bool key_fields_only_ = true;
};

}  // namespace kite::apiserver
