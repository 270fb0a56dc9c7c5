#include "server/apiserver/admission/service_account.h"

#include <openssl/rand.h>

#include <boost/json.hpp>

#include <set>
#include <string>

#include "api/object.h"
#include "server/apiserver/status.h"

namespace kite::apiserver {
namespace json = boost::json;

namespace {

constexpr char kVolumePrefix[] = "kube-api-access-";

bool IsMirrorPod(const json::object& pod) {
  return api::Annotations(pod).contains("kubernetes.io/config.mirror");
}

// Five characters from upstream's rand.String alphabet (no vowels, no look-alikes).
std::string RandomSuffix() {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  unsigned char b[5];
  RAND_bytes(b, sizeof b);
  std::string out;
  for (unsigned char c : b) out += kAlphabet[c % (sizeof kAlphabet - 1)];
  return out;
}

json::object TokenVolume(const std::string& name) {
  json::array sources{
      json::object{{"serviceAccountToken", json::object{{"expirationSeconds", 3607}, {"path", "token"}}}},
      json::object{{"configMap", json::object{{"name", "kube-root-ca.crt"},
                                              {"items", json::array{json::object{{"key", "ca.crt"}, {"path", "ca.crt"}}}}}}},
      json::object{{"downwardAPI",
                    json::object{{"items", json::array{json::object{
                                               {"path", "namespace"},
                                               {"fieldRef", json::object{{"apiVersion", "v1"},
                                                                         {"fieldPath", "metadata.namespace"}}}}}}}}}};
  return json::object{{"name", name}, {"projected", json::object{{"sources", std::move(sources)}, {"defaultMode", 420}}}};
}

bool MountsAt(const json::object& container, const std::string& path) {
  for (const auto& m : api::GetArray(container, "volumeMounts")) {
    if (m.is_object() && api::GetString(m.as_object(), "mountPath") == path) return true;
  }
  return false;
}

}  // namespace

std::string DefaultServiceAccountName(json::object& pod) {
  if (IsMirrorPod(pod)) return "";
  json::value& sv = pod["spec"];
  if (!sv.is_object()) sv = json::object();
  json::object& spec = sv.as_object();
  std::string name = api::GetString(spec, "serviceAccountName");
  if (name.empty()) name = api::GetString(spec, "serviceAccount");
  if (name.empty()) name = "default";
  spec["serviceAccountName"] = name;
  spec["serviceAccount"] = name;
  return name;
}

Status AdmitServiceAccount(json::object& pod, const std::string& ns, const json::object* account) {
  if (IsMirrorPod(pod)) return {};
  json::object& spec = pod["spec"].as_object();
  const std::string name = api::GetString(spec, "serviceAccountName");
  if (!account && name != "default") {
    const std::string pod_name = api::Name(pod);
    Status::Details d;
    d.name = pod_name;
    d.kind = "pods";
    return Forbidden("pods \"" + pod_name + "\" is forbidden: error looking up service account " + ns +
                     "/" + name + ": serviceaccount \"" + name + "\" not found")
        .set_details(std::move(d));
  }
  // imagePullSecrets from the account when the pod names none.
  if (account && api::GetArray(spec, "imagePullSecrets").empty()) {
    const json::array& secrets = api::GetArray(*account, "imagePullSecrets");
    if (!secrets.empty()) spec["imagePullSecrets"] = secrets;
  }
  // automountServiceAccountToken: the pod's, else the account's, else true.
  const json::value* pod_auto = spec.if_contains("automountServiceAccountToken");
  const json::value* sa_auto = account ? account->if_contains("automountServiceAccountToken") : nullptr;
  bool mount = true;
  if (pod_auto && pod_auto->is_bool()) mount = pod_auto->as_bool();
  else if (sa_auto && sa_auto->is_bool()) mount = sa_auto->as_bool();
  if (!mount) return {};

  std::set<std::string> taken;
  for (const auto& v : api::GetArray(spec, "volumes")) {
    if (v.is_object()) taken.insert(api::GetString(v.as_object(), "name"));
  }
  std::string volume;
  do volume = kVolumePrefix + RandomSuffix();
  while (taken.contains(volume));
  bool used = false;
  for (const char* list : {"initContainers", "containers"}) {
    json::value* cs = spec.if_contains(list);
    if (!cs || !cs->is_array()) continue;
    for (auto& cv : cs->as_array()) {
      if (!cv.is_object() || MountsAt(cv.as_object(), kServiceAccountMountPath)) continue;
      json::value& mounts = cv.as_object()["volumeMounts"];
      if (!mounts.is_array()) mounts = json::array();
      mounts.as_array().push_back(
          json::object{{"name", volume}, {"readOnly", true}, {"mountPath", kServiceAccountMountPath}});
      used = true;
    }
  }
  if (!used) return {};
  json::value& volumes = spec["volumes"];
  if (!volumes.is_array()) volumes = json::array();
  volumes.as_array().push_back(TokenVolume(volume));
  return {};
}

}  // namespace kite::apiserver
