// Response pieces shared by the router and the handlers (response.h).
#include "server/apiserver/handlers/response.h"

namespace kite::apiserver {

HttpsResponder::Headers WarningHeaders(const std::vector<std::string>& warnings) {
  HttpsResponder::Headers headers;
  for (const auto& w : warnings) {
    std::string text;
    for (char ch : w) {
      if (ch == '"' || ch == '\\') text += '\\';
      text += ch;
    }
    headers.emplace_back("Warning", "299 - \"" + text + "\"");
  }
  return headers;
}

}  // namespace kite::apiserver
