// Per-kind rules: what upstream keeps in pkg/registry/<group>/<kind>/strategy.go. The generic
// code (storage/registry.cc, handlers/, storage/list_options.cc) never names a kind; it asks the
// kind's Strategy, found by group and resource. A kind without one gets the generic behaviour
// (the defaults below). "Where is pod behaviour?" has a one-file answer: strategy/pod.cc.
//
// Files: one per kind with rules of its own (pod, namespace, service, secret, configmap, event),
// apps.cc for the apps/v1 workloads (one rule set with small differences), batch.cc for Job and
// CronJob, core.cc and others.cc for the kinds with one or two rules each; kinds.h lists them.
// Shared field checks: validation.h.
// Defaulting is api/defaults.h's (the object model's), Table columns printers/'s.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/resources.h"
#include "server/apiserver/status.h"

namespace kite::apiserver {

class FieldErrors;      // validation.h
class CustomResources;  // crds/crds.h

class Strategy {
 public:
  virtual ~Strategy() = default;

  // --- create
  // The check of metadata.name on create: "" when valid, else upstream's message. A DNS-1123
  // subdomain unless the kind says otherwise (a Namespace's name is a label).
  virtual std::string ValidateName(const std::string& name) const;
  // Rewrites a decoded body before defaulting and validation, on every write (a Secret's
  // write-only stringData is merged into data).
  virtual void Normalize(boost::json::object& obj) const;
  // Fields the server generates on create, once the uid and name are set (a Job's selector).
  virtual void PrepareForCreate(boost::json::object& obj) const;
  // The kind's status before anyone writes it, as upstream serializes its zero value: `{}` plus
  // the members its Go type never omits (typed clients require them: the Python client's
  // V1ReplicaSetStatus refuses a status without `replicas`). Services: {"loadBalancer": {}}.
  virtual boost::json::object EmptyStatus(const api::ResourceInfo& r) const;
  // Whether metadata.generation counts spec changes. Upstream's strategies set it for most kinds
  // with a spec; a Lease's does not (leader election renews it every few seconds, and its spec is
  // not a desired state anyone observes).
  virtual bool TracksGeneration() const;

  // --- create and update, after defaulting and before validation
  // The kind's own step that needs the resources this server serves (`crds`' set, never null):
  // it may refuse the object (any API error) or fill fields the server owns. A CRD's names must
  // not take a built-in's, and its status (accepted names, conditions) is written here
  // (crds/crds.h's PrepareCrd). nullopt: go on.
  virtual std::optional<Status> PrepareForWrite(boost::json::object& obj, const CustomResources& crds) const;
  // Whether a successful write of this kind changes the set of served resources (a CRD's): the
  // server then reloads it (and on delete drops the stored objects of what is no longer served).
  virtual bool ChangesServedResources() const;
  // Whether a write of this kind changes which admission webhooks run (their configurations):
  // the webhook admission then reads them again (admission/webhooks.h).
  virtual bool ChangesAdmission() const;
  // Whether a write of this kind changes which API server answers a group/version (an
  // APIService's): the aggregator then checks them again (aggregator/aggregator.h).
  virtual bool ChangesAggregation() const;

  // --- validation (422 Invalid; the generic metadata checks run first, ValidateObject below)
  virtual void Validate(const api::ResourceInfo& r, const boost::json::object& obj, FieldErrors& e) const;
  // Immutable fields on update; Validate runs after it on the new object.
  virtual void ValidateUpdate(const boost::json::object& obj, const boost::json::object& old, FieldErrors& e) const;
  // What only a create may not have (a pod's ephemeralContainers); Validate runs before it.
  virtual void ValidateCreate(const boost::json::object& obj, FieldErrors& e) const;

  // --- update
  // Clears what an update of the main resource leaves behind, after defaulting and before
  // validation (upstream's PrepareForUpdate): a Service whose type no longer needs node ports
  // drops the ones it kept unchanged. `old` is the stored object.
  virtual void PrepareForUpdate(boost::json::object& obj, const boost::json::object& old) const;
  // Whether an update of the main resource keeps the stored status (upstream's PrepareForUpdate
  // resets it), for a kind with a status subresource. A CRD's status is written by its update.
  virtual bool ResetsStatusOnUpdate() const;

  // --- delete
  // The propagation policy of a delete that names none (upstream's per-kind
  // DefaultGarbageCollectionPolicy): Orphan for v1 ReplicationControllers and batch/v1 Jobs,
  // Background for everything else.
  virtual std::string DefaultPropagationPolicy() const;
  // Marks an object being deleted (a Namespace with spec.finalizers turns Terminating) and returns
  // its grace period in seconds: > 0 keeps it (deletionTimestamp = now + grace) for its node to
  // finish (a running pod). `requested` is DeleteOptions.gracePeriodSeconds.
  virtual int64_t BeforeDelete(boost::json::object& obj, std::optional<int64_t> requested) const;
  // Whether a deleted object stays, beyond metadata.finalizers: `obj` is as BeforeDelete left it
  // on delete, or as an update writes it once deletionTimestamp is set (an update that removes
  // the last finalizer deletes the object only if nothing else holds it).
  virtual bool DeletionPendingOnDelete(const boost::json::object& obj) const;
  virtual bool DeletionPendingOnUpdate(const boost::json::object& obj) const;
  // Whether a delete that removed the object still answers with the object (upstream's pod
  // strategy returns the pod; other kinds a Success Status).
  virtual bool ReturnsDeletedObject() const;

  // --- list and watch
  // The fields a field selector may name beyond metadata.name and metadata.namespace (upstream's
  // GetAttrs / field label conversion functions).
  virtual std::vector<std::string_view> SelectableFields() const;
  // The value of selectable field `field` when it is not simply the JSON at that path (core
  // Events' `source` is source.component); nullopt: read the path.
  // `obj` is the object as a json::value (what api::FieldValueFromObject reads).
  virtual std::optional<std::string> FieldValue(const boost::json::value& obj, std::string_view field) const;

  // --- subresources
  // The label selector the scale subresource reports, as a string: spec.selector read as a
  // LabelSelector, or as a plain label map (ReplicationController).
  virtual bool SelectorIsLabelMap() const;
  // A subresource written like the object itself, not a status (pods/ephemeralcontainers,
  // namespaces/finalize): the object a write through `sub` stores, made in `obj` from the stored
  // `old` and what `sub` may change of `obj` (upstream's per-subresource PrepareForUpdate). The
  // default stores `obj` as it is.
  virtual void PrepareSubresourceUpdate(std::string_view sub, boost::json::object& obj,
                                        const boost::json::object& old) const;
  // Its check in place of ValidateUpdate (the default: ValidateUpdate).
  virtual void ValidateSubresourceUpdate(std::string_view sub, const boost::json::object& obj,
                                         const boost::json::object& old, FieldErrors& e) const;
  // log/exec/attach/portforward/proxy when no kubelet stream is connected: the error to answer
  // for `obj` (pods name their node; other kinds have no endpoints).
  virtual Status NodeStreamUnavailable(const api::ResourceInfo& r, const boost::json::object& obj,
                                         const std::string& name, const std::string& sub) const;
};

// The strategy of `r` (by group and resource; custom resources get the generic one).
const Strategy& StrategyFor(const api::ResourceInfo& r);

// Per-kind validation on create and update (422 Invalid with causes), and immutable fields:
// the generic metadata checks, then the kind's Validate / ValidateUpdate.
std::optional<Status> ValidateObject(const api::ResourceInfo& r, const boost::json::object& obj);
// `sub`: the subresource written ("" for the object; Strategy::ValidateSubresourceUpdate).
std::optional<Status> ValidateUpdate(const api::ResourceInfo& r, const boost::json::object& obj,
                                       const boost::json::object& old, std::string_view sub = "");
// The kind's ValidateCreate, on a create after ValidateObject.
std::optional<Status> ValidateCreate(const api::ResourceInfo& r, const boost::json::object& obj);
// A patched object against the stored one: metadata.uid may not change (upstream's
// ValidateObjectMetaUpdate; an adoption patch names the orphan's uid, so it never takes over an
// object replaced under the same name). 422 Invalid, "metadata.uid: Invalid value: \"<uid>\":
// field is immutable". A patch that leaves the uid out keeps it.
std::optional<Status> ValidatePatchedUid(const api::ResourceInfo& r, const boost::json::object& patched,
                                         const boost::json::object& old);

}  // namespace kite::apiserver
