#include "server/apiserver/discovery/openapi.h"

#include <boost/json.hpp>

#include <map>
#include <mutex>
#include <set>

#include "api/resources.h"
#include "api/schema.h"
#include "base/pki.h"

namespace kite::apiserver {
namespace json = boost::json;
using api::schema::Field;
using api::schema::Type;
using api::schema::ValueKind;

namespace {

constexpr const char* kRefPrefix = "#/components/schemas/";

json::value Ref(const std::string& name) { return json::object{{"$ref", std::string(kRefPrefix) + name}}; }

json::object ScalarSchema(ValueKind k) {
  switch (k) {
    case ValueKind::kString: return {{"type", "string"}};
    case ValueKind::kBytes: return {{"type", "string"}, {"format", "byte"}};
    case ValueKind::kBool: return {{"type", "boolean"}};
    case ValueKind::kInt32: return {{"type", "integer"}, {"format", "int32"}};
    case ValueKind::kInt64: return {{"type", "integer"}, {"format", "int64"}};
    case ValueKind::kDouble: return {{"type", "number"}, {"format", "double"}};
    default: return {};
  }
}

// Named schemas for the special apimachinery types, as upstream names them.
const char* SpecialName(ValueKind k) {
  switch (k) {
    case ValueKind::kQuantity: return "io.k8s.apimachinery.pkg.api.resource.Quantity";
    case ValueKind::kIntOrString: return "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
    case ValueKind::kTime: return "io.k8s.apimachinery.pkg.apis.meta.v1.Time";
    case ValueKind::kMicroTime: return "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime";
    case ValueKind::kDuration: return "io.k8s.apimachinery.pkg.apis.meta.v1.Duration";
    case ValueKind::kRawExtension: return "io.k8s.apimachinery.pkg.runtime.RawExtension";
    case ValueKind::kFieldsV1: return "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1";
    default: return nullptr;
  }
}

json::object SpecialSchema(ValueKind k) {
  switch (k) {
    case ValueKind::kQuantity:
      return {{"description", "A fixed-point number with a suffix, e.g. 100m, 1Gi, 2."},
              {"oneOf", json::array{json::object{{"type", "string"}}, json::object{{"type", "number"}}}}};
    case ValueKind::kIntOrString:
      return {{"description", "An integer or a string."}, {"type", "string"}, {"format", "int-or-string"},
              {"x-kubernetes-int-or-string", true}};
    case ValueKind::kTime: return {{"description", "An RFC 3339 timestamp."}, {"type", "string"}, {"format", "date-time"}};
    case ValueKind::kMicroTime:
      return {{"description", "An RFC 3339 timestamp with microseconds."}, {"type", "string"}, {"format", "date-time"}};
    case ValueKind::kDuration: return {{"description", "A duration, e.g. 1h30m."}, {"type", "string"}};
    case ValueKind::kRawExtension: return {{"description", "An embedded object."}, {"type", "object"}};
    case ValueKind::kFieldsV1: return {{"description", "A set of fields, in FieldsV1 form."}, {"type", "object"}};
    default: return {};
  }
}

class Builder {
 public:
  json::object schemas;

  json::value ValueSchema(const Field& f) {
    if (f.kind == ValueKind::kMessage) {
      if (f.type->wrapper) return json::object{{"type", "array"}, {"items", json::object{{"type", "string"}}}};
      Add(*f.type);
      return Ref(f.type->name);
    }
    if (const char* special = SpecialName(f.kind)) {
      if (!schemas.contains(special)) schemas[special] = SpecialSchema(f.kind);
      return Ref(special);
    }
    if (f.kind == ValueKind::kJson) return json::object{{"x-kubernetes-preserve-unknown-fields", true}};
    return ScalarSchema(f.kind);
  }

  void Properties(const Type& t, json::object& props) {
    for (const Field& f : t.fields) {
      if (f.inline_ && f.type) {
        Properties(*f.type, props);
        continue;
      }
      json::value v = ValueSchema(f);
      json::object p;
      if (f.repeated) {
        p = {{"type", "array"}, {"items", std::move(v)}};
        if (!f.patch_merge_key.empty()) {
          p["x-kubernetes-list-type"] = "map";
          p["x-kubernetes-list-map-keys"] = json::array{json::string(f.patch_merge_key)};
        } else if (f.MergesList()) {
          p["x-kubernetes-list-type"] = "set";
        } else {
          p["x-kubernetes-list-type"] = "atomic";
        }
      } else if (f.map) {
        p = {{"type", "object"}, {"additionalProperties", std::move(v)}};
      } else if (v.as_object().contains("$ref")) {
        // Upstream wraps references in allOf so they can carry siblings (description, default).
        p = {{"allOf", json::array{std::move(v)}}};
      } else {
        p = std::move(v.as_object());
      }
      if (!f.patch_strategy.empty()) p["x-kubernetes-patch-strategy"] = f.patch_strategy;
      if (!f.patch_merge_key.empty()) p["x-kubernetes-patch-merge-key"] = f.patch_merge_key;
      props[f.name] = std::move(p);
    }
  }

  void Add(const Type& t) {
    if (schemas.contains(t.name)) return;
    schemas[t.name] = json::object();  // placeholder: breaks cycles (JSONSchemaProps-like types)
    json::object props;
    Properties(t, props);
    json::object s{{"type", "object"}, {"description", Describe(t)}, {"properties", std::move(props)}};
    auto kinds = api::schema::KindsOf(t);
    if (!kinds.empty()) {
      json::array gvks;
      for (const auto& k : kinds) gvks.push_back(json::object{{"group", k.group}, {"version", k.version}, {"kind", k.kind}});
      s["x-kubernetes-group-version-kind"] = std::move(gvks);
      // apiVersion and kind are implicit in protobuf but part of every JSON object.
      auto& p = s["properties"].as_object();
      p["apiVersion"] = json::object{{"type", "string"},
                                     {"description", "The versioned schema of this object (group/version)."}};
      p["kind"] = json::object{{"type", "string"}, {"description", "The kind of this object, in CamelCase."}};
    }
    schemas[t.name] = std::move(s);
  }

  static std::string Describe(const Type& t) {
    std::string short_name = t.name.substr(t.name.rfind('.') + 1);
    return short_name + " (" + t.name.substr(0, t.name.rfind('.')) + ").";
  }
};

json::object Parameter(const char* name, const char* description) {
  return {{"name", name}, {"in", "query"}, {"description", description}, {"schema", json::object{{"type", "string"}}},
          {"uniqueItems", true}};
}

json::object Operation(const std::string& id, const char* action, const api::ResourceInfo& r, const std::string& kind,
                       const std::string& group, const std::string& version, const std::string& response_schema,
                       bool write, bool patch) {
  json::object op{{"operationId", id},
                  {"x-kubernetes-action", action},
                  {"x-kubernetes-group-version-kind",
                   json::object{{"group", group}, {"version", version}, {"kind", kind}}}};
  json::array params;
  if (write) {
    params.push_back(Parameter("dryRun", "When present, the request is validated but not persisted (All)."));
    params.push_back(Parameter("fieldManager", "The name of the actor making the change."));
    params.push_back(Parameter("fieldValidation", "Ignore, Warn or Strict handling of unknown fields."));
  }
  if (patch) params.push_back(Parameter("force", "Take over conflicting fields on apply."));
  if (!params.empty()) op["parameters"] = std::move(params);
  json::object content;
  json::value ref = Ref(response_schema);
  for (const char* t : {"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}) {
    content[t] = json::object{{"schema", ref}};
  }
  op["responses"] = json::object{{"200", json::object{{"description", "OK"}, {"content", content}}},
                                 {"401", json::object{{"description", "Unauthorized"}}}};
  if (patch) {
    json::object body;
    for (const char* t : {"application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
                          "application/strategic-merge-patch+json"}) {
      body[t] = json::object{{"schema", Ref("io.k8s.apimachinery.pkg.apis.meta.v1.Patch")}};
    }
    op["requestBody"] = json::object{{"content", std::move(body)}, {"required", true}};
  } else if (write && std::string(action) != "delete") {
    op["requestBody"] = json::object{{"content", json::object{{"*/*", json::object{{"schema", ref}}}}}, {"required", true}};
  }
  (void)r;
  return op;
}

std::string BuildDocument(const std::string& group, const std::string& version) {
  Builder b;
  json::object paths;
  const std::string base = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  for (const auto& r : api::BuiltinResources()) {
    if (r.group != group || r.version != version) continue;
    const Type* t = api::schema::TypeForKind(r.group, r.version, r.kind);
    if (!t) continue;
    b.Add(*t);
    const Type* list = api::schema::TypeForKind(r.group, r.version, r.kind + "List");
    if (list) b.Add(*list);
    const std::string scope = r.namespaced ? base + "/namespaces/{namespace}/" + r.resource : base + "/" + r.resource;
    const bool writable = std::find(r.verbs.begin(), r.verbs.end(), "update") != r.verbs.end();
    const bool listable = std::find(r.verbs.begin(), r.verbs.end(), "list") != r.verbs.end();
    json::object coll;
    if (listable && list) coll["get"] = Operation("list" + r.kind, "list", r, r.kind, r.group, r.version, list->name, false, false);
    coll["post"] = Operation("create" + r.kind, "post", r, r.kind, r.group, r.version, t->name, true, false);
    paths[scope] = std::move(coll);
    if (r.namespaced && listable && list) {
      paths[base + "/" + r.resource] =
          json::object{{"get", Operation("list" + r.kind + "ForAllNamespaces", "list", r, r.kind, r.group, r.version,
                                         list->name, false, false)}};
    }
    if (writable) {
      json::object item{{"get", Operation("read" + r.kind, "get", r, r.kind, r.group, r.version, t->name, false, false)},
                        {"put", Operation("replace" + r.kind, "put", r, r.kind, r.group, r.version, t->name, true, false)},
                        {"patch", Operation("patch" + r.kind, "patch", r, r.kind, r.group, r.version, t->name, true, true)},
                        {"delete", Operation("delete" + r.kind, "delete", r, r.kind, r.group, r.version,
                                             "io.k8s.apimachinery.pkg.apis.meta.v1.Status", true, false)}};
      paths[scope + "/{name}"] = std::move(item);
    }
    for (const auto& s : r.subresources) {
      if (s.name != "status" && s.name != "scale") continue;
      std::string g = s.group.empty() && s.version.empty() ? r.group : s.group;
      std::string v = s.version.empty() ? r.version : s.version;
      const Type* st = api::schema::TypeForKind(g, v, s.kind);
      if (!st) continue;
      b.Add(*st);
      std::string suffix = s.name == "status" ? "Status" : "Scale";
      paths[scope + "/{name}/" + s.name] = json::object{
          {"get", Operation("read" + r.kind + suffix, "get", r, s.kind, g, v, st->name, false, false)},
          {"put", Operation("replace" + r.kind + suffix, "put", r, s.kind, g, v, st->name, true, false)},
          {"patch", Operation("patch" + r.kind + suffix, "patch", r, s.kind, g, v, st->name, true, true)}};
    }
  }
  for (const char* meta : {"io.k8s.apimachinery.pkg.apis.meta.v1.Status", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"}) {
    if (const Type* t = api::schema::FindType(meta)) b.Add(*t);
  }
  b.schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Patch"] =
      json::object{{"description", "A patch body; its media type says how to apply it."}, {"type", "object"}};
  json::object doc{{"openapi", "3.0.0"},
                   {"info", json::object{{"title", "Kubernetes"}, {"version", "v1.32.4+kite"}}},
                   {"paths", std::move(paths)},
                   {"components", json::object{{"schemas", std::move(b.schemas)}}}};
  return json::serialize(doc);
}

// A custom resource group-version: paths like the built-ins', schemas from the CRD; an
// aggregated one's (an extension API server's) the same shape with an open schema.
std::string BuildCustomDocument(const api::ResourceSet& set, const std::string& group, const std::string& version) {
  json::object paths, schemas;
  const std::string base = "/apis/" + group + "/" + version;
  for (const auto& r : set.resources) {
    if (!(r.custom || r.aggregated) || r.group != group || r.version != version) continue;
    const std::string schema_name = group + "." + version + "." + r.kind;
    json::object s{{"type", "object"}};
    // An extension server's kind: no schema known here, so any field is let through (kubectl's
    // validation then leaves the object to that server).
    if (r.aggregated) s["x-kubernetes-preserve-unknown-fields"] = true;
    if (r.crd_version) {
      auto sc = r.crd_version->find("schema");
      if (sc != r.crd_version->end() && sc->value().is_object()) {
        auto o = sc->value().as_object().find("openAPIV3Schema");
        if (o != sc->value().as_object().end() && o->value().is_object()) s = o->value().as_object();
      }
    }
    s["x-kubernetes-group-version-kind"] =
        json::array{json::object{{"group", group}, {"version", version}, {"kind", r.kind}}};
    json::value& props = s["properties"];
    if (!props.is_object()) props = json::object();
    props.as_object()["metadata"] = json::object{{"$ref", std::string(kRefPrefix) + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}};
    props.as_object()["apiVersion"] = json::object{{"type", "string"}};
    props.as_object()["kind"] = json::object{{"type", "string"}};
    schemas[schema_name] = std::move(s);
    const std::string scope = r.namespaced ? base + "/namespaces/{namespace}/" + r.resource : base + "/" + r.resource;
    paths[scope] = json::object{{"post", Operation("create" + r.kind, "post", r, r.kind, group, version, schema_name, true, false)}};
    paths[scope + "/{name}"] = json::object{
        {"get", Operation("read" + r.kind, "get", r, r.kind, group, version, schema_name, false, false)},
        {"put", Operation("replace" + r.kind, "put", r, r.kind, group, version, schema_name, true, false)},
        {"patch", Operation("patch" + r.kind, "patch", r, r.kind, group, version, schema_name, true, true)},
        {"delete", Operation("delete" + r.kind, "delete", r, r.kind, group, version,
                             "io.k8s.apimachinery.pkg.apis.meta.v1.Status", true, false)}};
  }
  Builder b;
  for (const char* meta : {"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.apimachinery.pkg.apis.meta.v1.Status"}) {
    if (const Type* t = api::schema::FindType(meta)) b.Add(*t);
  }
  for (auto& kv : b.schemas) schemas[kv.key()] = kv.value();
  schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Patch"] = json::object{{"type", "object"}};
  return json::serialize(json::object{{"openapi", "3.0.0"},
                                      {"info", json::object{{"title", "Kubernetes CRD Swagger"}, {"version", "v0.1.0"}}},
                                      {"paths", std::move(paths)},
                                      {"components", json::object{{"schemas", std::move(schemas)}}}});
}

struct Cache {
  std::mutex mu;
  std::map<std::string, std::string> docs;  // "api/v1", "apis/apps/v1"
  std::string index;
};

Cache& TheCache() {
  static Cache c;
  return c;
}

std::string DocKey(const std::string& group, const std::string& version) {
  return group.empty() ? "api/" + version : "apis/" + group + "/" + version;
}

const std::string& Document(Cache& c, const std::string& group, const std::string& version) {
  std::string key = DocKey(group, version);
  auto it = c.docs.find(key);
  if (it == c.docs.end()) it = c.docs.emplace(key, BuildDocument(group, version)).first;
  return it->second;
}

}  // namespace

std::optional<OpenApiDocument> OpenApiV3(const api::ResourceSet& set, const std::string& path, bool has_hash) {
  Cache& c = TheCache();
  std::lock_guard<std::mutex> lock(c.mu);
  if (path == "/openapi/v3" || path == "/openapi/v3/") {
    if (c.index.empty()) {
      json::object paths;
      for (const auto& g : api::BuiltinGroups()) {
        for (const auto& v : g.versions) {
          bool any = false;
          for (const auto& r : api::BuiltinResources()) {
            any |= r.group == g.name && r.version == v && api::schema::TypeForKind(r.group, r.version, r.kind);
          }
          if (!any) continue;
          std::string key = DocKey(g.name, v);
          paths[key] = json::object{{"serverRelativeURL",
                                     "/openapi/v3/" + key + "?hash=" + pki::Sha256Hex(Document(c, g.name, v)).substr(0, 64)}};
        }
      }
      c.index = json::serialize(json::object{{"paths", std::move(paths)}});
    }
    // Custom group-versions change with CRDs: added to the cached built-in index per request.
    std::set<std::string> custom;
    for (const auto& r : set.resources) {
      if (r.custom || r.aggregated) custom.insert(r.group + "/" + r.version);
    }
    if (custom.empty()) return OpenApiDocument{c.index, false};
    boost::system::error_code ec;
    json::value index = json::parse(c.index, ec);
    auto& paths = index.as_object()["paths"].as_object();
    for (const auto& gv : custom) {
      std::string g = gv.substr(0, gv.find('/')), v = gv.substr(gv.find('/') + 1);
      paths["apis/" + gv] = json::object{
          {"serverRelativeURL", "/openapi/v3/apis/" + gv + "?hash=" + pki::Sha256Hex(BuildCustomDocument(set, g, v))}};
    }
    return OpenApiDocument{json::serialize(index), false};
  }
  const std::string prefix = "/openapi/v3/";
  if (path.rfind(prefix, 0) != 0) return std::nullopt;
  std::string rest = path.substr(prefix.size());
  std::string group, version;
  if (rest.rfind("api/", 0) == 0) {
    version = rest.substr(4);
  } else if (rest.rfind("apis/", 0) == 0) {
    std::string gv = rest.substr(5);
    auto slash = gv.find('/');
    if (slash == std::string::npos) return std::nullopt;
    group = gv.substr(0, slash);
    version = gv.substr(slash + 1);
  } else {
    return std::nullopt;
  }
  if (version.empty() || version.find('/') != std::string::npos) return std::nullopt;
  for (const auto& r : set.resources) {
    if ((r.custom || r.aggregated) && r.group == group && r.version == version) {
      return OpenApiDocument{BuildCustomDocument(set, group, version), has_hash};
    }
  }
  bool served = false;
  for (const auto& r : api::BuiltinResources()) {
    served |= r.group == group && r.version == version && api::schema::TypeForKind(r.group, r.version, r.kind);
  }
  if (!served) return std::nullopt;
  return OpenApiDocument{Document(c, group, version), has_hash};
}

std::optional<RawResponse> ServeOpenApi(const HttpsRequest& req, const api::ResourceSet& set) {
  if (req.method != "GET" || req.path.rfind("/openapi/v3", 0) != 0) return std::nullopt;
  auto doc = OpenApiV3(set, req.path, req.HasQuery("hash"));
  if (!doc) return std::nullopt;
  HttpsResponder::Headers headers;
  if (doc->immutable) headers.emplace_back("Cache-Control", "public, immutable");
  else headers.emplace_back("Cache-Control", "no-cache, private");
  return RawResponse{200, "application/json", std::move(doc->body), std::move(headers)};
}

}  // namespace kite::apiserver
