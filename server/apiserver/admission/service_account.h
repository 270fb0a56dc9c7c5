// Upstream's ServiceAccount admission plugin, on a pod being created:
// - spec.serviceAccountName defaults to "default" (the deprecated spec.serviceAccount, given
//   alone, names it instead); both fields then say the same.
// - The account must exist, except "default" (made by the serviceaccount controller moments
//   after its namespace; the kubelet's token request waits for it): otherwise 403 with
//   upstream's "error looking up service account <ns>/<name>" message.
// - Unless spec.automountServiceAccountToken, or else the account's
//   automountServiceAccountToken, is false: a projected volume `kube-api-access-<5 random>`
//   (a serviceAccountToken of 3607 s at `token`, the kube-root-ca.crt ConfigMap's ca.crt, the
//   namespace from the downward API; defaultMode 0644) mounted read-only at
//   /var/run/secrets/kubernetes.io/serviceaccount in every init and app container that does not
//   already mount something there.
// - A pod without imagePullSecrets gets the account's.
// Mirror pods (static pods a kubelet reports) are left alone.
#pragma once

#include <boost/json/object.hpp>

#include <string>

#include "base/status.h"

namespace kite::apiserver {

inline constexpr char kServiceAccountMountPath[] = "/var/run/secrets/kubernetes.io/serviceaccount";

// The service account's name `pod` runs as, after defaulting (written into the pod); "" for a
// mirror pod, which the plugin leaves alone.
std::string DefaultServiceAccountName(boost::json::object& pod);

// The rest of the plugin, once the account was looked up: `account` null when it does not exist.
// Forbidden when a named account is missing.
Status AdmitServiceAccount(boost::json::object& pod, const std::string& ns, const boost::json::object* account);

}  // namespace kite::apiserver
