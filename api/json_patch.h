// JSON Patch (RFC 6902) on boost::json values, as kube-apiserver applies
// `application/json-patch+json` bodies.
//
// Contract:
//  - The patch is a JSON array of operation objects {"op", "path", "from", "value"}; null is an
//    empty patch. Operations run in order on a copy of the document: on any failure the input is
//    untouched and the error of the first failing operation is returned (atomic).
//  - Pointers are RFC 6901: "" is the whole document, "/a/b" walks members and array indexes,
//    "~1" decodes to "/" and "~0" to "~" (in one pass, so "~01" is "~1"); a pointer that does
//    not start with "/" never resolves. "-" appends in `add` (and in the destination of `move`
//    and `copy`).
//  - Behaviour follows the JSON-patch library kube-apiserver uses where it differs from the RFC,
//    because clients see the apiserver's behaviour:
//      * array indexes are parsed like Go's strconv.Atoi (a sign and leading zeros are accepted),
//        and negative indexes count from the end (-1 is the last element; in `add`, -1 appends);
//      * `replace` of a missing object member adds it (missing array elements are errors);
//      * `test` of a missing member succeeds when the expected value is null.
//    Where that library is unsafe or surprising, the RFC wins: `add`/`replace` with path ""
//    replace the whole document, `copy` from a missing member fails, and `add`, `replace` and
//    `test` without "value" fail.
//  - Error texts follow kube-apiserver's, e.g.
//      add operation does not apply: doc is missing path: "/spec/x": missing value
//      replace operation does not apply: doc is missing key: /a/5: missing value
//      error in remove for path: '/a/x': Unable to remove nonexistent key: x: missing value
//      testing value /a failed: test failed
//      Unexpected kind: frob
//  - Bounded as kube-apiserver bounds it: at most kMaxJsonPatchOperations operations, and the
//    values `copy` operations add may total at most `max_copy_bytes` of serialised JSON (upstream
//    ties this to its 3 MiB request body limit). Everything else a patch adds comes from the patch
//    text, so the result serialises to at most |doc| + 2·|patch| + max_copy_bytes (2·: a number
//    may print longer than it was written, "1.5" → "1.5E0"). A copy over the bound is refused
//    before the value is copied:
//      Unable to complete the copy, the accumulated size increase of copy is N, exceeding the limit L
// Error codes (the HTTP edge maps them): kInvalidArgument — the patch itself is malformed
// (apiserver: 400 BadRequest with this text); kResourceExhausted — more than
// kMaxJsonPatchOperations operations (413 RequestEntityTooLarge, "Request entity too large: "
// + this text); kFailedPrecondition — the patch does not apply to this document (including a
// copy over the bound, which upstream also answers with 422). For the last,
// kube-apiserver 1.32 answers 422 reason Invalid with the fixed message "the server rejected our
// request due to an error in our request" and drops the library's text (kubectl prints "The
// request is invalid: ..."); the edge may reproduce that exactly or add this text for users.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kite::api {

// kube-apiserver's cap on operations per JSON patch.
inline constexpr std::size_t kMaxJsonPatchOperations = 10000;
// kube-apiserver's JSONPatchMaxCopyBytes: its maximum request body, 3 MiB.
inline constexpr int64_t kMaxJsonPatchCopyBytes = 3 * 1024 * 1024;

struct JsonPatchOptions {
  int64_t max_copy_bytes = kMaxJsonPatchCopyBytes;
};

Result<boost::json::value> ApplyJsonPatch(const boost::json::value& doc, const boost::json::value& patch,
                                          const JsonPatchOptions& options = {});
// Same, with the patch as JSON text (parse errors are kInvalidArgument).
Result<boost::json::value> ApplyJsonPatch(const boost::json::value& doc, std::string_view patch_json,
                                          const JsonPatchOptions& options = {});

// Splits an RFC 6901 pointer into decoded reference tokens; nullopt when `pointer` is neither
// "" nor starts with "/".
std::optional<std::vector<std::string>> ParseJsonPointer(std::string_view pointer);
// Strict RFC 6901 lookup (array indexes are "0" or digits without a leading zero; "-" never
// resolves). Returns nullptr when the pointer does not resolve.
const boost::json::value* ResolveJsonPointer(const boost::json::value& doc, std::string_view pointer);

}  // namespace kite::api
