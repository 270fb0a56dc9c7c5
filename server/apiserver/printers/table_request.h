// What a request asks of the printers, and the one place a get or list answer becomes a Table:
// the router parses the request once (ParseTableRequest) and hands every answer it serves whole
// through TableIfWanted (built-in kinds, custom resources and delegated groups alike). Watches
// convert event by event in handlers/watch_handler.
//
// Threading: pure functions over their arguments.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

#include "api/resources.h"
#include "base/status.h"
#include "server/apiserver/printers/tables.h"

namespace kite::apiserver {

struct TableRequest {
  std::string version;  // the Table apiVersion the Accept header asks for; "" for no Table
  IncludeObject include = IncludeObject::kMetadata;
};

// From the Accept header (WantedTableVersion) and the includeObject query; an unknown
// includeObject is a 400 BadRequest `unrecognized includeObject value: "<v>"`, as upstream's.
Result<TableRequest> ParseTableRequest(std::string_view accept, std::string_view include_object);

// `body` (an object or a list of resource `r`, as a get or list answers) replaced by its Table
// when `t` asks for one; left alone otherwise, and for answers without metadata (a Status).
void TableIfWanted(const TableRequest& t, const api::ResourceInfo& r, boost::json::object& body);

}  // namespace kite::apiserver
