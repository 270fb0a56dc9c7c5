// Pieces of request handling shared by handlers.cc and its neighbours in handlers/ (patch.cc,
// subresources.cc, reviews.cc, streaming.cc) and admission/. Not a public API.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "api/resources.h"
#include "base/https_server.h"
#include "server/apiserver/handlers/handlers.h"
#include "server/apiserver/status.h"
#include "server/apiserver/strategy/strategy.h"

namespace kite::apiserver {

// How many times a write that another writer got ahead of is read and applied again before the
// client gets 409. Upstream's GuaranteedUpdate retries without bound for writes that do not pin
// a resourceVersion (patches, scale, binding); a bound only guards against a livelock. With 5,
// four clients patching one object saw 2-4 % of their patches refused.
constexpr int kConflictRetries = 100;

struct ResourceHandlers::Call {
  HttpsRequest& req;
  HttpsResponder& res;
  const RequestInfo& info;
  const api::ResourceInfo& r;
  const RequestAttributes& a;
  std::string ns;
  bool dry_run = false;
};

// Schema check (unknown fields per fieldValidation, JSON types), defaulting, validation.
// Returns the warnings to send.
// Custom resources are checked against their CRD's schema; the kind's strategy gets its
// PrepareForWrite with `crds` (a CRD's names and status), when given. An update passes the
// stored object as `old`: the strategy's PrepareForUpdate runs before validation (a Service
// leaving NodePort drops its node ports). `validate` false leaves validation to the caller (an
// update whose stored object is read later: it calls PrepareForUpdate and ValidateObject then).
Result<std::vector<std::string>> PrepareObject(const HttpsRequest& req, const api::ResourceInfo& r,
                                              boost::json::object& obj, bool defaults, CustomResources* crds,
                                              const boost::json::object* old = nullptr, bool validate = true);

// The fieldManager query parameter, or the client's program name from User-Agent.
std::string ManagerName(const HttpsRequest& req);

// `k8s\0` envelope → JSON object (api/protobuf_decode).
Result<boost::json::object> DecodeProtobufBody(const std::string& body);

// Applies a patch of media type `media` to `current`. For apply patches (server-side apply),
// field ownership is checked against metadata.managedFields: a field owned by another manager
// with a different value is a 409 conflict unless `force`.
Result<boost::json::object> ApplyPatch(const api::ResourceInfo& r, const std::string& media,
                                      const boost::json::object& current, const boost::json::value& patch,
                                      const std::string& manager, bool force);

// managedFields bookkeeping: an update by `manager` takes ownership of the fields it changed
// (relative to `old`, or all fields on create); an apply owns exactly the applied fields.
void RecordManager(boost::json::object& obj, const std::string& manager, const std::string& operation,
                   const std::string& api_version, const boost::json::object* old);
void RecordApply(boost::json::object& obj, const boost::json::object& applied, const std::string& manager,
                 const std::string& api_version);

// certificates.k8s.io CSRs (certificates.cc), on every write: on create (`old` null) the spec's
// username/uid/groups/extra become the requester's and the status empty, and a
// kube-apiserver-client request for system:masters is refused (CertificateSubjectRestriction);
// on …/approval and …/status (`sub`) the object keeps from `old` what that subresource may not
// change, and a changed approval needs `approve`, a changed certificate `sign`, on
// signers/<signerName> (CertificateApproval, CertificateSigning). 403 Forbidden otherwise.
Status AdmitCertificateSigningRequest(const std::string& sub, const Authorizer& authz, const UserInfo& user,
                                      boost::json::object& obj, const boost::json::object* old);

}  // namespace kite::apiserver
