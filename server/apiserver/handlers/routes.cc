#include "server/apiserver/handlers/routes.h"

#include "server/apiserver/handlers/handlers_internal.h"

namespace kite::apiserver {
namespace {

// The verbs a row answers, as bits (RequestInfo's verb names). "options": an HTTP OPTIONS
// request, which the proxies relay.
struct RouteVerb {
  static constexpr unsigned kGet = 1, kCreate = 2, kUpdate = 4, kPatch = 8, kDelete = 16, kOptions = 32;
  static constexpr unsigned kProxy = kCreate | kDelete | kGet | kPatch | kUpdate | kOptions;
  static unsigned Of(std::string_view verb) {
    if (verb == "get") return kGet;
    if (verb == "create") return kCreate;
    if (verb == "update") return kUpdate;
    if (verb == "patch") return kPatch;
    if (verb == "delete") return kDelete;
    if (verb == "options") return kOptions;
    return 0;
  }
};

constexpr std::string_view kEveryKind = "*";  // every kind that declares the subresource

struct RouteRow {
  std::string_view group, resource;  // resource kEveryKind: any group
  std::string_view subresource;      // "": the object itself
  unsigned verbs;
  RouteHandler handler;
  bool before_write_options = false;
};

using RV = RouteVerb;
using RH = RouteHandler;

// Every route of a subresource (and the one replaced verb of an object). The verbs match what
// discovery advertises for the subresource (api/resources.cc); routes_test checks that.
constexpr RouteRow kRouteTable[] = {
    // Every kind with a status or scale subresource, custom resources included.
    {"", kEveryKind, "status", RV::kGet, RH::kGetObject},
    {"", kEveryKind, "status", RV::kUpdate, RH::kUpdateStatus},
    {"", kEveryKind, "status", RV::kPatch, RH::kPatchStatus},
    {"", kEveryKind, "scale", RV::kGet | RV::kUpdate | RV::kPatch, RH::kScale},
    // core/v1
    {"", "bindings", "", RV::kCreate, RH::kBindingFromBody},
    {"", "namespaces", "finalize", RV::kUpdate, RH::kUpdateObject},
    {"", "nodes", "proxy", RV::kProxy, RH::kNodeProxy},
    {"", "pods", "attach", RV::kCreate | RV::kGet, RH::kRemoteCommand, true},
    {"", "pods", "binding", RV::kCreate, RH::kBinding},
    {"", "pods", "ephemeralcontainers", RV::kGet, RH::kGetObject},
    {"", "pods", "ephemeralcontainers", RV::kUpdate, RH::kUpdateObject},
    {"", "pods", "ephemeralcontainers", RV::kPatch, RH::kPatchObject},
    {"", "pods", "eviction", RV::kCreate, RH::kEviction},
    {"", "pods", "exec", RV::kCreate | RV::kGet, RH::kRemoteCommand, true},
    {"", "pods", "log", RV::kGet, RH::kPodLog},
    {"", "pods", "portforward", RV::kCreate | RV::kGet, RH::kRemoteCommand, true},
    {"", "pods", "proxy", RV::kProxy, RH::kObjectProxy},
    {"", "serviceaccounts", "token", RV::kCreate, RH::kTokenRequest},
    {"", "services", "proxy", RV::kProxy, RH::kObjectProxy},
    // certificates.k8s.io/v1: the approval conditions are written like a status.
    {"certificates.k8s.io", "certificatesigningrequests", "approval", RV::kGet, RH::kGetObject},
    {"certificates.k8s.io", "certificatesigningrequests", "approval", RV::kUpdate, RH::kUpdateStatus},
    {"certificates.k8s.io", "certificatesigningrequests", "approval", RV::kPatch, RH::kPatchStatus},
};

bool RouteRowIsFor(const RouteRow& row, const api::ResourceInfo& r, std::string_view sub) {
  if (row.subresource != sub) return false;
  if (row.resource == kEveryKind) return true;
  // A custom resource never borrows a built-in kind's route by naming its group and resource.
  return !r.custom && row.group == r.group && row.resource == r.resource;
}

}  // namespace

Route FindRoute(const api::ResourceInfo& r, std::string_view sub, std::string_view verb) {
  if (!sub.empty() && !r.Subresource(sub)) return {RH::kNone, 404};
  const unsigned bit = RV::Of(verb);
  bool routed = false;
  for (const RouteRow& row : kRouteTable) {
    if (!RouteRowIsFor(row, r, sub)) continue;
    routed = true;
    if (row.verbs & bit) return {row.handler, 0, row.before_write_options};
  }
  if (sub.empty()) return {};
  return {RH::kNone, routed ? 405 : 404};
}

bool SubresourceServed(const api::ResourceInfo& r, std::string_view sub) {
  if (!r.Subresource(sub)) return false;
  for (const RouteRow& row : kRouteTable) {
    if (RouteRowIsFor(row, r, sub)) return true;
  }
  return false;
}

RequesterAdmission RequesterAdmissionFor(const api::ResourceInfo& r) {
  if (r.custom) return nullptr;
  if (r.group == "certificates.k8s.io" && r.resource == "certificatesigningrequests") {
    return &AdmitCertificateSigningRequest;  // certificates.cc
  }
  return nullptr;
}

}  // namespace kite::apiserver
