// Parsing untrusted JSON text into boost::json values without exceptions.
//
// The nesting limit is raised from Boost's default (32) because real objects (CRD schemas)
// nest deeper, but kept bounded because copying and destroying values recurses.
#pragma once

#include <boost/json/value.hpp>

#include <string_view>

#include "base/status.h"

namespace kite::api {

inline constexpr std::size_t kMaxJsonDepth = 1000;

// Parses exactly one JSON value. Errors are kInvalidArgument carrying Boost's message.
Result<boost::json::value> ParseJson(std::string_view text);

}  // namespace kite::api
