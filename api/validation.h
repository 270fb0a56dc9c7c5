// Name and value validation shared by the object model, with the error texts of upstream
// apimachinery (`util/validation`, `util/validation/field`).
//
// Why byte-exact texts: kube-apiserver returns these strings inside a Status, kubectl prints
// them verbatim, and users and scripts match on them. So the checks below reproduce upstream's
// behaviour and messages (including upstream quirks such as the double space in
// "'MyName',  or 'my.name'"), written from its documented behaviour.
//
// Also here: the two Go formatting conventions those messages embed (`%q` quoting and
// encoding/json rendering of bad values), because every message that carries a user value
// goes through one of them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kite::api {

// --- upstream validators: each returns the list of failure messages, empty when valid. ---

// A label key or annotation key: optional DNS-1123 subdomain prefix and '/', then a name of at
// most 63 characters matching ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9].
std::vector<std::string> IsQualifiedName(std::string_view value);
// A label value: empty, or at most 63 characters with the qualified-name charset.
std::vector<std::string> IsValidLabelValue(std::string_view value);
// A lowercase RFC 1123 subdomain of at most 253 characters.
std::vector<std::string> IsDNS1123Subdomain(std::string_view value);
// A lowercase RFC 1123 label ([a-z0-9]([-a-z0-9]*[a-z0-9])?) of at most 63 characters.
std::vector<std::string> IsDNS1123Label(std::string_view value);
// The same starting with a letter ([a-z]([-a-z0-9]*[a-z0-9])?): an RFC 1035 label.
std::vector<std::string> IsDNS1035Label(std::string_view value);
// A local descending path (upstream's validateLocalDescendingPath, e.g. a seccomp
// localhostProfile): not absolute, no ".." element, so it cannot leave the dir it is under.
std::vector<std::string> IsLocalDescendingPath(std::string_view path);

// Joins messages with `sep` (upstream joins the per-check messages with "; ").
std::string JoinMessages(const std::vector<std::string>& msgs, std::string_view sep);

// --- field errors (upstream field.Error) ---

// One field-level validation error. `Error()` renders it as upstream does:
// "<field>: <Type>[: <bad value>][: <detail>]".
struct FieldError {
  enum class Type { kInvalid, kRequired, kForbidden, kNotSupported };
  Type type = Type::kInvalid;
  std::string field;      // path such as "spec.selector.matchLabels"; "<nil>" when none
  std::string bad_value;  // already rendered (see GoQuote / GoJsonStringArray); unused for
                          // Required and Forbidden
  std::string detail;

  std::string Error() const;
  bool operator==(const FieldError&) const = default;
};

// Renders a list the way upstream's aggregate error does: one error as itself, several as
// "[e1, e2]" with duplicate messages dropped. Empty list gives "".
std::string AggregateErrors(const std::vector<std::string>& errors);

// --- Go text conventions ---

// fmt's %q of a Go string: double-quoted, with Go escapes for control bytes, quotes,
// backslashes and invalid UTF-8 (\xNN). Printable UTF-8 is kept as is.
std::string GoQuote(std::string_view s);
// encoding/json rendering of a string (escapes <, >, & as \u003c.. and invalid UTF-8 as \ufffd).
std::string GoJsonString(std::string_view s);
// encoding/json rendering of a []string; `null` for a nil slice is the caller's business.
std::string GoJsonStringArray(const std::vector<std::string>& values);

// Decodes one UTF-8 code point at s[pos] as Go's `range` over a string does: an invalid or
// truncated sequence yields U+FFFD with width 1. Sets `width` to the bytes consumed (>= 1).
char32_t DecodeRune(std::string_view s, size_t pos, size_t* width);
// Appends the UTF-8 encoding of `r` (as Go's WriteRune; invalid runes become U+FFFD).
void AppendRune(std::string* out, char32_t r);

}  // namespace kite::api
