#include "server/apiserver/printers/table_request.h"

namespace kite::apiserver {

Result<TableRequest> ParseTableRequest(std::string_view accept, std::string_view include_object) {
  if (!IsValidIncludeObject(include_object)) {
    return Status::Api(400, "BadRequest", "unrecognized includeObject value: \"" + std::string(include_object) + "\"");
  }
  return TableRequest{WantedTableVersion(accept), ParseIncludeObject(include_object)};
}

void TableIfWanted(const TableRequest& t, const api::ResourceInfo& r, boost::json::object& body) {
  if (t.version.empty() || !body.contains("metadata")) return;
  body = ConvertToTable(r, body, t.include, t.version);
}

}  // namespace kite::apiserver
