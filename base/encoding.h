// Base64 (standard alphabet, padded), as used in kubeconfig *-data fields and Secret data; and
// percent-encoding, as URL query values and X-Remote-Extra- header names carry text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kite {

std::string Base64Encode(std::string_view data);
// nullopt for malformed input.
std::optional<std::string> Base64Decode(std::string_view text);

// Every byte but RFC 3986's unreserved ones (letters, digits, - _ . ~) as %XX (upper-case hex),
// as Go's url.QueryEscape writes them except that a space is %20.
std::string PercentEncode(std::string_view text);

}  // namespace kite
