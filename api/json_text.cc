#include "api/json_text.h"

#include <boost/json/parse.hpp>

namespace kite::api {

Result<boost::json::value> ParseJson(std::string_view text) {
  boost::json::parse_options opts;
  opts.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  try {
    boost::json::value v = boost::json::parse(text, ec, {}, opts);
    if (ec) return Status(Code::kInvalidArgument, ec.message());
    return v;
  } catch (const std::exception& e) {  // allocation failures and the like
    return Status(Code::kInvalidArgument, e.what());
  }
}

}  // namespace kite::api
