// Reading a stored object's JSON text without decoding it, for the watch cache's hot path.
//
// Every write to the datastore turns into a watch event that the watch cache must show with the
// object's metadata.resourceVersion set (the store does not keep it in the value) and whose
// metadata.labels it keeps for label selectors. Decoding the whole object into a DOM and
// serialising it again for that costs more than the rest of an event's handling; the text alone
// suffices when it is in the form boost::json::serialize writes, which is how the API server
// stores every object.
//
// Contract: ScanStoredObject accepts only a subset of JSON it can vouch for — one object, no
// whitespace outside strings, printable ASCII in strings with the short escapes (\" \\ \b \f \n
// \r \t), integers of at most 18 digits, nesting within 30 levels, at most one "metadata" member
// and, in it, at most one "resourceVersion" and one "labels". Anything else (other JSON, or not
// JSON at all) gives nullopt, and the caller decodes the text as before. So for accepted text,
// WithResourceVersion's output is valid JSON on one line and equals, byte for byte, what
// parsing, setting metadata.resourceVersion and serialising would give (as boost::json does it:
// an existing member's value is replaced in place, a new one goes last). The one difference:
// duplicate member names elsewhere in the object stay as they are (checking every object for them
// would cost what this saves; the encoder never writes them, so only a value put through the
// etcd endpoint by hand can have them, and clients decoding it settle them as they always do).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kite::apiserver {

struct StoredObjectScan {
  static constexpr size_t npos = std::string_view::npos;
  size_t meta_begin = npos, meta_end = npos;      // metadata's object: its '{' .. one past its '}'
  size_t rv_begin = npos, rv_end = npos;          // metadata.resourceVersion's value
  size_t labels_begin = npos, labels_end = npos;  // metadata.labels's value
};

std::optional<StoredObjectScan> ScanStoredObject(std::string_view text);

// `text` (as scanned) with metadata.resourceVersion set to the string `rv`; nullopt when the
// scan found no metadata object (the caller decodes then).
std::optional<std::string> WithResourceVersion(std::string_view text, const StoredObjectScan& scan, int64_t rv);

// The same change as an edit of the scanned text: its bytes [begin, end) give way to `insert`.
// For callers that write the result out in pieces without copying the text (watch streams).
struct TextSplice {
  size_t begin = 0, end = 0;
  std::string insert;
};
std::optional<TextSplice> ResourceVersionSplice(const StoredObjectScan& scan, int64_t rv);

// The text of metadata.labels's value, or "" when there is none.
std::string_view LabelsText(std::string_view text, const StoredObjectScan& scan);

}  // namespace kite::apiserver
