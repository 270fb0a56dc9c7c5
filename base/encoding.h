// Base64 (standard alphabet, padded), as used in kubeconfig *-data fields and Secret data.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kite {

std::string Base64Encode(std::string_view data);
// nullopt for malformed input.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace kite
