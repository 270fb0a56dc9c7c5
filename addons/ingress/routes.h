// RouteTable: what kite-ingress routes where, built from the cluster's Ingresses (networking.k8s.io/v1),
// IngressClasses and Services. Pure logic over the objects (no I/O), rebuilt whole on every
// change and swapped in under the proxy (proxy.h); fuzzed by tests/fuzz/ingress_routes_fuzz.cc,
// since every Ingress a user writes reaches it.
//
// Which Ingresses are ours (upstream's rules, as Traefik applies them in k3s):
// - the IngressClasses whose spec.controller is Options::controller are ours; an Ingress naming
//   one of them in the annotation kubernetes.io/ingress.class (deprecated, and it wins over the
//   field, as upstream reads it) or in spec.ingressClassName is ours;
// - an Ingress naming no class is ours when one of our classes carries
//   ingressclass.kubernetes.io/is-default-class: "true".
//
// Matching a request (the Ingress API's semantics):
// - Host: the request's Host without its port, lower-cased, a trailing dot dropped. A rule's
//   host matches exactly, or as a wildcard "*.example.com" matching exactly one more label
//   ("a.example.com", not "example.com" nor "a.b.example.com"). Exact hosts are tried first,
//   then wildcards (the longest suffix first), then the rules without a host (Traefik's order:
//   a host's rules that match no path fall through to the host-less ones).
// - Path, among the candidate host's rules (from every Ingress of ours): Exact matches the
//   request path exactly; Prefix (and ImplementationSpecific, which kite treats as Prefix)
//   matches element by element on '/' boundaries, a trailing '/' of the rule ignored ("/foo"
//   matches "/foo", "/foo/" and "/foo/bar", not "/foobar"). The longest matching rule path wins;
//   at equal length Exact before Prefix, then the older Ingress (creationTimestamp), then
//   namespace/name.
// - Nothing matched: the oldest of our Ingresses' spec.defaultBackend, else no route (404).
// - Entry points, by Traefik's annotations on the Ingress: traefik.ingress.kubernetes.io/
//   router.entrypoints ("web", "websecure", comma-separated; other names match nothing) limits
//   its rules and default backend to requests that came on those; router.tls: "true" to
//   websecure alone. Without them an Ingress is served on both.
//
// TLS (spec.tls): each listed host (exact, or "*." wildcard) is served with the certificate of
// the Secret named beside it, in the Ingress's namespace; when two Ingresses name a host, the
// older one's Secret is used. A TLS entry without hosts names no host (kite-ingress's default
// certificate answers those requests).
//
// Backends go to the Service's cluster IP and port (Traefik's "native load balancing": the node's
// service proxy picks the endpoint, so EndpointSlices need no second implementation here). A
// backend that cannot be resolved (no such Service, no such port, a headless or ExternalName
// Service, a `resource` backend) still routes, with `error` saying why: the proxy answers 503.
#pragma once

#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kite::ingress {

// What a matched rule sends the request to.
struct Backend {
  std::string ingress;  // "namespace/name" of the Ingress the rule came from
  std::string service;  // "namespace/name:port" as written (the metrics' service label)
  std::string address;  // "clusterIP:port" to connect to; empty when unresolved
  std::string error;    // why it is unresolved
};

enum class PathType { kExact, kPrefix };

// The entry points a rule is served on (a bit set).
inline constexpr unsigned kWeb = 1, kWebsecure = 2;

struct PathRule {
  std::string path;  // as written (Prefix: its trailing '/' dropped, "/" kept)
  PathType type = PathType::kPrefix;
  unsigned entrypoints = kWeb | kWebsecure;
  Backend backend;
  std::string created;  // the Ingress's creationTimestamp (RFC 3339 sorts as text)
};

// The rules of one host, in match order (longest path first).
using PathRules = std::vector<PathRule>;

struct Options {
  std::string controller = "kite.io/ingress";  // the IngressClass spec.controller that is ours
};

class RouteTable {
 public:
  using Objects = std::vector<std::shared_ptr<const boost::json::object>>;

  static std::shared_ptr<const RouteTable> Build(const Options& options, const Objects& ingresses,
                                                 const Objects& classes, const Objects& services);

  // The backend for a request's Host header and path (the target without its query) that came
  // on `entrypoint` (kWeb or kWebsecure), or null: no rule matches and there is no default
  // backend for it.
  const Backend* Match(std::string_view host_header, std::string_view path, unsigned entrypoint = kWeb) const;

  // The Secret ("namespace/name") whose certificate serves TLS for an SNI name (normalized as
  // NormalizeHost), or null: exact names first, then the wildcards.
  const std::string* TlsSecretFor(std::string_view server_name) const;
  // Every Secret some host's TLS uses, sorted ("namespace/name").
  std::vector<std::string> TlsSecrets() const;

  // The Ingresses this controller serves ("namespace/name"), sorted: their status is ours to set.
  const std::vector<std::string>& ingresses() const { return ingresses_; }
  size_t rules() const;

  // A request's Host header as matching reads it: no port, lower case, no trailing dot.
  static std::string NormalizeHost(std::string_view host_header);
  // Whether a rule path of `type` matches request path `path`.
  static bool PathMatches(const PathRule& rule, std::string_view path);

 private:
  static const Backend* MatchIn(const PathRules& rules, std::string_view path, unsigned entrypoint);

  std::map<std::string, PathRules, std::less<>> exact_;
  std::vector<std::pair<std::string, PathRules>> wildcard_;  // ".example.com", longest first
  PathRules any_host_;
  std::optional<Backend> default_backend_;
  unsigned default_entrypoints_ = kWeb | kWebsecure;
  std::map<std::string, std::string, std::less<>> tls_exact_;      // host → "ns/secret"
  std::vector<std::pair<std::string, std::string>> tls_wildcard_;  // ".example.com" → "ns/secret", longest first
  std::vector<std::string> ingresses_;
};

}  // namespace kite::ingress
