// Admission webhooks: upstream's MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins
// over the admissionregistration.k8s.io/v1 configurations (what cert-manager, ingress-nginx,
// kyverno and their Helm charts install).
//
// Contract, as upstream's:
// - A write (CREATE, UPDATE, DELETE; a subresource's write as the resource "pods/status") and a
//   CONNECT (pods/exec, attach, portforward, with the options as the object) is sent
//   to every webhook whose rules match it (operations, apiGroups, apiVersions — any version under
//   matchPolicy Equivalent, kite serving one per resource —, resources with "*" and "res/sub"
//   forms, scope), whose namespaceSelector matches the labels of the object's namespace (of a
//   Namespace: its own) and whose objectSelector matches the object's or the old object's labels.
//   Writes of the webhook configurations themselves are never sent (no lock-out).
// - Mutating webhooks run first, one after another in the order of their configurations' names
//   and of the list: each gets the object as the previous left it and may answer a JSONPatch
//   (patchType JSONPatch), applied at once. One whose reinvocationPolicy is IfNeeded is called
//   once more when a later one changed the object (upstream's single reinvocation pass).
//   Validating webhooks run after the object's validation and see the final object.
// - The AdmissionReview is admission.k8s.io/v1 (v1beta1 when that is all a webhook lists), POSTed
//   over HTTPS to clientConfig.url or to a ready endpoint of clientConfig.service (the Service's
//   Endpoints, as kube-apiserver's --enable-aggregator-routing resolves it), verified against
//   caBundle (the system roots without one) for the name <service>.<namespace>.svc, with
//   ?timeout=<timeoutSeconds>s and that bound on the whole call.
// - An answer's warnings reach the client (Warning headers, kubectl prints them).
// - A denial is the webhook's status with upstream's text, "admission webhook \"<name>\" denied the
//   request: <message>", its code (400 when below 400). A webhook that cannot be called or answers
//   nonsense is skipped under failurePolicy Ignore and fails the write under Fail with 500
//   "Internal error occurred: failed calling webhook \"<name>\": <why>".
// - The configurations are read from the registry at most once a second, and at once after a
//   write of either kind through this server (Invalidate).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/resources.h"
#include "base/status.h"
#include "server/apiserver/filters/authn.h"

namespace kite::apiserver {

class Registry;

// What a webhook is asked about.
struct AdmissionAttributes {
  const api::ResourceInfo* r = nullptr;
  std::string ns, name, subresource;
  std::string operation;  // CREATE, UPDATE, DELETE
  const UserInfo* user = nullptr;
  bool dry_run = false;
  const boost::json::object* old = nullptr;  // UPDATE and DELETE
  // The object's kind when it is not the resource's (CONNECT: PodExecOptions, …); "" otherwise.
  std::string kind;
  // Where the webhooks' warnings go (the response's Warning headers), or null.
  std::vector<std::string>* warnings = nullptr;
};

// One webhook of a configuration, as matching needs it (webhooks.cc; exposed for unit tests).
bool WebhookRuleMatches(const boost::json::object& rule, const AdmissionAttributes& a, bool exact);

class WebhookAdmission {
 public:
  explicit WebhookAdmission(Registry* registry) : registry_(registry) {}

  struct Hook {
    std::string config;  // the configuration's name
    boost::json::object spec;
  };
  struct Configs {
    std::vector<Hook> mutating, validating;  // in the order they run
  };
  // The configurations now: read once per request and handed to the calls below.
  boost::asio::awaitable<std::shared_ptr<const Configs>> Current();
  // Whether a rule of any webhook matches the request (never for the configurations' own kinds):
  // false, the common case, ends its admission here, without another coroutine or read.
  static bool AnyFor(const Configs& configs, const AdmissionAttributes& a);
  // After AnyFor: the mutating webhooks, in order; `obj` (the new object; null for DELETE) is
  // patched in place. True when a patch changed it (the caller validates it again).
  boost::asio::awaitable<Result<bool>> Mutate(const Configs& configs, const AdmissionAttributes& a,
                                              boost::json::object* obj);
  // After AnyFor: the validating webhooks, on the object about to be stored (null for DELETE).
  boost::asio::awaitable<Status> Validate(const Configs& configs, const AdmissionAttributes& a,
                                          const boost::json::object* obj);
  // A configuration was written: read them again at the next request.
  void Invalidate();

 private:
  boost::asio::awaitable<Result<bool>> Matches(const Hook& h, const AdmissionAttributes& a,
                                               const boost::json::object* obj);
  // Calls each matching hook; `patched` non-null: mutating, `obj` is patched in place (then true);
  // `changed`, when given, tells per hook whether its patch changed the object.
  boost::asio::awaitable<Status> Run(const std::vector<Hook>& hooks, const AdmissionAttributes& a,
                                     const boost::json::object* obj, bool* patched, std::vector<bool>* changed);

  Registry* registry_;
  std::mutex mu_;
  std::shared_ptr<const Configs> configs_;  // guarded by mu_
  std::chrono::steady_clock::time_point loaded_{};
};

}  // namespace kite::apiserver
