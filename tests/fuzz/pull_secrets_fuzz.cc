// What a pod brings to the kubelet's pulls (agent/kubelet/pull_secrets.h), untrusted: the image
// name and the content of its imagePullSecrets. The first input byte splits the rest into an
// image reference and a docker config document; parsing either never crashes, a parsed reference
// prints back to a reference that parses to itself, and the keyring's lookup never crashes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/kubelet/pull_secrets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t cut = data[0] < rest.size() ? data[0] : rest.size();
  std::string_view image = rest.substr(0, cut), config = rest.substr(cut);

  auto ref = kite::kubelet::ParseImageReference(image);
  if (ref.ok()) {
    auto again = kite::kubelet::ParseImageReference(ref->String());
    if (!again.ok() || again->String() != ref->String()) std::abort();
  }
  kite::kubelet::DockerKeyring keyring;
  (void)keyring.AddDockerConfigJson(config);
  (void)keyring.AddDockerCfg(config);
  kite::kubelet::ImageReference target;
  if (ref.ok()) {
    target = *ref;
  } else {
    target.domain = "docker.io";
    target.path = "library/busybox";
  }
  (void)keyring.Lookup(target);
  return 0;
}
