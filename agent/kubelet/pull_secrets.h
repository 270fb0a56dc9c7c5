// What the kubelet sends with a PullImage: the normalised image reference and the registry
// credentials from the pod's imagePullSecrets, with upstream's rules (the docker reference
// grammar of distribution/reference, and the kubelet's credentialprovider keyring).
//
// The imagePullPolicy default (Always for :latest or no tag, else IfNotPresent) is the API
// server's (api/defaults.cc); static pods get it through the same api::DefaultPodSpec.
//
// A pull, as upstream's kubelet does it:
//   auto ref = ParseImageReference(image);              // error: InvalidImageName
//   auto creds = PullCredentialsFor(pod, *ref, lookup);  // error: ErrImagePull
//   try images->PullImage({ref->String()}, auth, sandbox) with each of creds->auths in turn
//   until one succeeds (std::nullopt when there are none); all failing is ErrImagePull.
//
// Thread-safety: pure functions, apart from what the SecretLookup callback does.
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/cri/runtime.h"
#include "base/status.h"

namespace kite::kubelet {

// ---- image references -------------------------------------------------------------------------

// A reference in its full form: "nginx" is docker.io/library/nginx:latest, "localhost:5000/a"
// keeps its registry, a digest without a tag stays without one.
struct ImageReference {
  std::string domain;  // "docker.io", "registry.example.com:5000"
  std::string path;    // "library/nginx"
  std::string tag;     // "latest" when neither tag nor digest was given
  std::string digest;  // "sha256:<64 hex>" or ""

  std::string Repository() const { return domain + "/" + path; }  // what credentials match on
  std::string String() const;  // domain/path[:tag][@digest]: what the kubelet pulls
};

// Normalises `image` as upstream (ParseNormalizedNamed + TagNameOnly). InvalidArgument for what
// is not a reference (upper case in the path, an empty component, a bad tag or digest): the
// kubelet's InvalidImageName.
Result<ImageReference> ParseImageReference(std::string_view image);

// ---- pull credentials -------------------------------------------------------------------------

// The docker credentials of one or more dockercfg/dockerconfigjson documents, matched as the
// kubelet's keyring does: an entry "host[:port][/path]" (a scheme and a /v1/ or /v2/ path prefix
// are dropped) matches a repository whose host has as many dot-separated parts, each matching
// the entry's part as a glob ("*.example.com"; * and ? only), the same port, and whose path starts
// with the entry's path; the longest entries (reverse order) come first. An image of Docker Hub
// with no match also gets the entries of "index.docker.io" (what `docker login` writes as
// https://index.docker.io/v1/).
class DockerKeyring {
 public:
  // Adds the entries of a .dockercfg document ({"<registry>": {"username", "password", "auth",
  // "email"}}); "auth" (base64 "user:password") wins over username/password, as upstream.
  // InvalidArgument for what is not such a document, or a bad "auth".
  Status AddDockerCfg(std::string_view json_text);
  // The same for a .dockerconfigjson document ({"auths": {...}}).
  Status AddDockerConfigJson(std::string_view json_text);

  // Every matching credential, most specific first. server_address is left empty as upstream's
  // kubelet does, so containerd offers them to a mirror too.
  std::vector<cri::AuthConfig> Lookup(const ImageReference& image) const;

 private:
  Status AddEntries(const boost::json::object& entries);
  struct Entry {
    std::string key;  // host[:port][/path], no scheme
    cri::AuthConfig auth;
  };
  std::vector<Entry> entries_;  // sorted by key, descending
};

// Returns the Secret `name` in `ns`: NotFound when there is none.
using SecretLookup = std::function<Result<boost::json::object>(const std::string& ns, const std::string& name)>;

struct PullCredentials {
  std::vector<cri::AuthConfig> auths;  // try in order (upstream tries each); empty: anonymous
  // Secrets named in imagePullSecrets that could not be read, each "<name>: <reason>": the
  // kubelet logs them and goes on (upstream's FailedToRetrieveImagePullSecret warning).
  std::vector<std::string> missing;
};

// The credentials for pulling `image` (normalised) for `pod`, from its spec.imagePullSecrets:
// Secrets of type kubernetes.io/dockerconfigjson (data[".dockerconfigjson"]) and
// kubernetes.io/dockercfg (data[".dockercfg"]), base64 in data as the API holds them; secrets of
// other types are ignored, as upstream. A secret that cannot be read is listed in `missing`; one
// of those types whose content is malformed fails the pull (InvalidArgument naming the secret),
// as upstream's MakeDockerKeyring does.
Result<PullCredentials> PullCredentialsFor(const boost::json::object& pod, const ImageReference& image,
                                           const SecretLookup& lookup);

}  // namespace kite::kubelet
