// serviceaccounts/token: upstream's TokenRequest (authentication.k8s.io/v1), which
// `kubectl create token` and the kubelet's projected token volumes post. The answer is a signed
// JWT for the service account (server/serviceaccount/tokens.h), never stored:
//   spec.expirationSeconds   default 3600, at least 600 (10 minutes), at most 2^32
//   spec.audiences           default the API server's (https://kubernetes.default.svc.cluster.local, k3s)
//   spec.boundObjectRef      a v1 Pod, Secret or Node that must exist (with the uid given, if
//                            any); a pod must run as this service account. The token names it
//                            (and a pod's node) and stops authenticating once it is gone.
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>

#include "api/object.h"
#include "api/time.h"
#include "server/apiserver/filters/serviceaccount_authn.h"
#include "server/apiserver/handlers/handlers_internal.h"
#include "server/apiserver/storage/registry.h"
#include "server/serviceaccount/tokens.h"

namespace kite::apiserver {
namespace json = boost::json;
namespace asio = boost::asio;

namespace {

constexpr int64_t kDefaultExpiration = 3600;
constexpr int64_t kMinExpiration = 600;
constexpr int64_t kMaxExpiration = int64_t{1} << 32;

Status InvalidRequest(const std::string& name, const std::string& field, const std::string& value, const std::string& why) {
  return Status::Api(422, "Invalid", "TokenRequest.authentication.k8s.io \"" + name + "\" is invalid: " + field +
                                         ": Invalid value: " + value + ": " + why);
}

}  // namespace

asio::awaitable<Result<ApiResponse>> ResourceHandlers::TokenRequest(Call& c) {
  const ServiceAccountAuthenticator* issuer = authn_->service_accounts();
  if (!issuer) co_return NotFoundPath();
  const std::string& sa_name = c.info.name;
  auto body = DecodeBody(c.req, c.r, "TokenRequest", "authentication.k8s.io/v1");
  if (!body.ok()) co_return body.error();
  json::object req = std::move(body.value());
  json::object spec = api::GetObject(req, "spec");

  const json::value* exp_v = spec.if_contains("expirationSeconds");
  int64_t expiration = kDefaultExpiration;
  if (exp_v && !exp_v->is_null()) {
    if (!exp_v->is_int64()) co_return InvalidRequest(sa_name, "spec.expirationSeconds", json::serialize(*exp_v), "must be an integer");
    expiration = exp_v->as_int64();
  }
  if (expiration < kMinExpiration) {
    co_return InvalidRequest(sa_name, "spec.expirationSeconds", std::to_string(expiration),
                             "may not specify a duration less than 10 minutes");
  }
  if (expiration > kMaxExpiration) {
    co_return InvalidRequest(sa_name, "spec.expirationSeconds", std::to_string(expiration),
                             "may not specify a duration larger than 2^32 seconds");
  }
  std::vector<std::string> audiences;
  for (const auto& a : api::GetArray(spec, "audiences")) {
    if (a.is_string() && !a.as_string().empty()) audiences.emplace_back(a.as_string());
  }
  if (audiences.empty()) audiences = serviceaccount::ApiAudiences();

  auto sa = co_await registry_.Get(c.r, c.ns, sa_name);
  if (!sa.ok()) co_return sa.error();

  serviceaccount::Claims claims;
  claims.ns = c.ns;
  claims.service_account = {sa_name, api::Uid(sa.value())};
  claims.audiences = audiences;
  const int64_t now = issuer->Now();
  claims.issued_at = claims.not_before = now;
  claims.expires = now + expiration;

  if (const json::object* ref = api::FindObject(spec, "boundObjectRef")) {
    const std::string kind = api::GetString(*ref, "kind"), name = api::GetString(*ref, "name");
    const std::string uid = api::GetString(*ref, "uid"), av = api::GetString(*ref, "apiVersion");
    if (kind != "Pod" && kind != "Secret" && kind != "Node") {
      co_return BadRequest("cannot bind token for object of kind \"" + kind + "\": only Pod, Secret and Node are supported");
    }
    if (!av.empty() && av != "v1") co_return BadRequest("cannot bind token for object of apiVersion \"" + av + "\"");
    if (name.empty()) co_return InvalidRequest(sa_name, "spec.boundObjectRef.name", "\"\"", "name is required");
    const api::ResourceInfo* bound_r =
        api::FindResource("", "v1", kind == "Pod" ? "pods" : kind == "Secret" ? "secrets" : "nodes");
    const std::string bound_ns = kind == "Node" ? "" : c.ns;
    auto bound = co_await registry_.Get(*bound_r, bound_ns, name);
    if (!bound.ok()) co_return bound.error();
    const std::string have_uid = api::Uid(bound.value());
    if (!uid.empty() && uid != have_uid) {
      co_return Status::Api(409, "Conflict", "Operation cannot be fulfilled on " + kind + " \"" + name +
                                                 "\": the UID in the bound object reference (" + uid +
                                                 ") does not match the UID in record. The object might have been "
                                                 "deleted and then recreated");
    }
    const serviceaccount::ObjectRef bound_ref{name, have_uid};
    if (kind == "Pod") {
      const json::object& pod_spec = api::GetObject(bound.value(), "spec");
      if (api::GetString(pod_spec, "serviceAccountName") != sa_name) {
        co_return BadRequest("cannot bind token for serviceaccount \"" + sa_name +
                             "\" to pod running with different serviceaccount name.");
      }
      claims.pod = bound_ref;
      // The pod's node, as upstream's ServiceAccountTokenPodNodeInfo adds it (informational).
      if (const std::string node = api::GetString(pod_spec, "nodeName"); !node.empty()) {
        const api::ResourceInfo* nodes = api::FindResource("", "v1", "nodes");
        const std::string cluster_scope;
        auto n = co_await registry_.Get(*nodes, cluster_scope, node);
        claims.node = {node, n.ok() ? api::Uid(n.value()) : std::string()};
      }
    } else if (kind == "Secret") {
      claims.secret = bound_ref;
    } else {
      claims.node = bound_ref;
    }
  }

  auto token = serviceaccount::Issue(issuer->keys().signing, claims);
  if (!token.ok()) co_return InternalError(token.status().message());

  json::array aud;
  for (const auto& a : audiences) aud.emplace_back(a);
  spec["audiences"] = std::move(aud);
  spec["expirationSeconds"] = expiration;
  const auto expires_at = std::chrono::system_clock::time_point(std::chrono::seconds(claims.expires));
  json::object out{{"kind", "TokenRequest"},
                   {"apiVersion", "authentication.k8s.io/v1"},
                   {"metadata", json::object{{"name", sa_name}, {"namespace", c.ns}, {"creationTimestamp", api::NowTime()}}},
                   {"spec", std::move(spec)},
                   {"status", json::object{{"token", std::move(*token)}, {"expirationTimestamp", api::FormatTime(expires_at)}}}};
  co_return ApiResponse{201, std::move(out), {}};
}

}  // namespace kite::apiserver
