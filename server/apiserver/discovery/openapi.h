// OpenAPI v3 documents generated from the schema registry (api/schema.h) and the resource
// table (api/resources.h): what `kubectl explain` reads and what `kubectl create -f|apply|edit|
// replace` check before sending fieldValidation=Strict.
//
// - GET /openapi/v3: {"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=H"},...}},
//   one entry per served group-version; H is the SHA-256 of that document.
// - GET /openapi/v3/api/v1, /openapi/v3/apis/<group>/<version>: paths for every resource of the
//   group-version (list/create/deletecollection, get/replace/patch/delete, status and scale
//   subresources), each operation tagged with x-kubernetes-group-version-kind and the query
//   parameters (dryRun, fieldManager, fieldValidation, force for patch), patch request bodies in
//   the four patch media types; components.schemas holds every type those reach, with
//   x-kubernetes-group-version-kind on top-level kinds and x-kubernetes-patch-merge-key /
//   x-kubernetes-patch-strategy on fields. Descriptions are short and our own (upstream's field
//   documentation is not reproduced).
// Documents are built once per group-version on first request and cached; hashed URLs are
// immutable, as upstream marks them.
#pragma once

#include <optional>
#include <string>

#include "api/resources.h"
#include "base/https_server.h"
#include "server/apiserver/handlers/response.h"

namespace kite::apiserver {

struct OpenApiDocument {
  std::string body;
  bool immutable = false;  // served with Cache-Control: public, immutable
};

// For a request path under /openapi/v3 (the query's hash is ignored: documents never change
// while the server runs). nullopt: not an OpenAPI v3 path we serve.
// Custom resources' group-versions (from `set`) are generated per request from their CRD
// schemas; built-in ones are cached.
std::optional<OpenApiDocument> OpenApiV3(const api::ResourceSet& set, const std::string& path, bool has_hash);

// The answer to a GET under /openapi/v3 (with its Cache-Control), or nullopt for a path that
// names no document.
std::optional<RawResponse> ServeOpenApi(const HttpsRequest& req, const api::ResourceSet& set);

}  // namespace kite::apiserver
