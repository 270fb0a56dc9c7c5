// Which handler answers each kind's subresources, by verb: one table (routes.cc), consulted by
// ResourceHandlers::Handle and by discovery, so that "where is pods/exec served" has a one-line
// answer and adding a kind's subresource is one row there. No handler asks for a kind by name.
//
// A row names a kind (group and resource, or every kind that declares the subresource — status
// and scale, also on custom resources), a subresource, the verbs it answers and the handler.
// A row with no subresource replaces the generic handler of its verbs on the object itself (the
// bindings resource). A subresource is served only when the kind declares it (api/resources.cc,
// a CRD's subresources) and a row routes it: a declared one without a row answers 404 and is not
// advertised; a verb no row gives answers 405, as upstream, whose routes exist per verb.
//
// The same file names the admission a kind's writes need with the requester in hand (the
// CertificateSigningRequest plugins), the other per-kind hook ResourceHandlers consults.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

#include "api/resources.h"
#include "base/status.h"
#include "server/apiserver/filters/authn.h"
#include "server/apiserver/filters/authz.h"

namespace kite::apiserver {

// The handlers a row can name (ResourceHandlers::Dispatch calls them).
enum class RouteHandler {
  kNone,             // no row routes the request: see Route::code
  kGetObject,        // the stored object (…/status and …/approval reads)
  kUpdateStatus,     // an update of what the status scope may change (…/status, …/approval)
  kPatchStatus,      // a patch of the same
  kUpdateObject,     // an update through a subresource written like the object (namespaces/finalize,
                     // pods/ephemeralcontainers: Strategy::PrepareSubresourceUpdate says what it may change)
  kPatchObject,      // a patch of the same
  kScale,            // autoscaling/v1 Scale (subresources.cc)
  kEviction,         // pods/eviction (subresources.cc)
  kBinding,          // pods/binding: the pod the URL names (subresources.cc)
  kBindingFromBody,  // the bindings resource: the pod the body's metadata names
  kTokenRequest,     // serviceaccounts/token (token_request.cc)
  kPodLog,           // pods/log from the node's kubelet (kubelet_proxy.cc)
  kNodeProxy,        // nodes/proxy to the node's kubelet (kubelet_proxy.cc)
  kObjectProxy,      // pods/proxy and services/proxy (service_proxy.cc)
  kRemoteCommand,    // pods/exec, attach, portforward (remote_stream.cc)
};

// How a request (kind, subresource, verb) is routed.
struct Route {
  RouteHandler handler = RouteHandler::kNone;
  // With kNone: 404 (the kind does not serve the subresource), 405 (it does, not with this
  // verb) or 0 (the object itself, no row: the generic verbs answer).
  int code = 0;
  // A connection upgrade (exec, attach, port-forward): answered before the write options
  // (dryRun, fieldManager) are checked, which it does not take.
  bool before_write_options = false;
};

// `sub` is "" for the object itself; `verb` as RequestInfo names it (get, create, update, …).
Route FindRoute(const api::ResourceInfo& r, std::string_view sub, std::string_view verb);

// Whether some verb of subresource `sub` of `r` is routed: discovery advertises only these, so
// clients never see a subresource that would answer 404.
bool SubresourceServed(const api::ResourceInfo& r, std::string_view sub);

// Admission that needs the requester (and the authorizer), run on every write of the kind before
// RBAC's escalation check: `sub` is the request's subresource, `old` null on create.
using RequesterAdmission = Status (*)(const std::string& sub, const Authorizer& authz, const UserInfo& user,
                                      boost::json::object& obj, const boost::json::object* old);

// The kind's requester admission, or nullptr (custom resources never have one).
RequesterAdmission RequesterAdmissionFor(const api::ResourceInfo& r);

}  // namespace kite::apiserver
