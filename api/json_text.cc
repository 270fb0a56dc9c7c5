#include "api/json_text.h"

#include <cmath>
#include <vector>

#include <boost/json/parse.hpp>

namespace kite::api {

namespace {

// True when every number in `v` is finite. Boost.JSON turns out-of-range literals such as 1e400
// (or 0e444444444) into inf or NaN; Go's decoder, which Kubernetes clients and servers use,
// rejects them instead, and NaN would break equality everywhere downstream. Iterative, because
// documents may nest up to kMaxJsonDepth.
bool AllFinite(const boost::json::value& root) {
  std::vector<const boost::json::value*> stack{&root};
  while (!stack.empty()) {
    const boost::json::value* v = stack.back();
    stack.pop_back();
    if (v->is_double() && !std::isfinite(v->get_double())) return false;
    if (v->is_array()) {
      for (const auto& e : v->get_array()) stack.push_back(&e);
    } else if (v->is_object()) {
      for (const auto& kv : v->get_object()) stack.push_back(&kv.value());
    }
  }
  return true;
}

}  // namespace

Result<boost::json::value> ParseJson(std::string_view text) {
  boost::json::parse_options opts;
  opts.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  try {
    boost::json::value v = boost::json::parse(text, ec, {}, opts);
    if (ec) return Status(Code::kInvalidArgument, ec.message());
    if (!AllFinite(v)) return Status(Code::kInvalidArgument, "number out of range");
    return v;
  } catch (const std::exception& e) {  // allocation failures and the like
    return Status(Code::kInvalidArgument, e.what());
  }
}

}  // namespace kite::api
