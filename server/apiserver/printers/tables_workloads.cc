// Table printers for pods and the workload kinds (pod templates, replication controllers,
// ReplicaSets, Deployments, DaemonSets, StatefulSets, ControllerRevisions, Jobs, CronJobs,
// HorizontalPodAutoscalers): upstream's columns and cell values (pkg/printers/internalversion),
// read from kite's stored JSON the way conversion to upstream's internal types would (pod IPs,
// autoscaling/v1 HPAs), with upstream's defaults for absent fields. See tables_kinds.cc for the
// other kinds.
#include <set>

#include "server/apiserver/printers/tables_kinds.h"

namespace kite::apiserver::tables {
namespace {

// ---- pods ----------------------------------------------------------------------------------------

constexpr Column kPodColumns[] = {
    kNameCol,
    {"Ready", "string", "", "Ready containers out of the pod's containers.", 0},
    {"Status", "string", "", "Summary of the pod's state from its phase and container states.", 0},
    {"Restarts", "string", "", "Container restarts in total, and how long ago the latest one was.", 0},
    kAgeCol,
    {"IP", "string", "", "The pod's (first) IP address.", 1},
    {"Node", "string", "", "Node the pod is bound to.", 1},
    {"Nominated Node", "string", "", "Node nominated for the pod by preemption, before binding.", 1},
    {"Readiness Gates", "string", "", "Readiness gates whose condition is True, out of those declared.", 1},
};

// Keeps the latest lastState.terminated.finishedAt of a container status.
void NoteRestart(std::optional<Instant>& latest, const json::object& container_status) {
  auto t = Time(api::GetObject(container_status, {"lastState", "terminated"}), "finishedAt");
  if (t && (!latest || After(*t, *latest))) latest = t;
}

std::string ExitReason(const json::object& terminated, std::string_view prefix) {
  int64_t signal = api::GetInt(terminated, "signal");
  return signal != 0 ? std::string(prefix) + "Signal:" + std::to_string(signal)
                     : std::string(prefix) + "ExitCode:" + std::to_string(api::GetInt(terminated, "exitCode"));
}

PrintedRow PrintPod(const json::object& pod, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(pod, "spec");
  const json::object& status = api::GetObject(pod, "status");
  const json::array& conditions = api::GetArray(status, "conditions");
  // The pod strategy sets phase Pending on create.
  const std::string phase =
      api::GetString(status, "phase").empty() ? std::string("Pending") : api::GetString(status, "phase");
  std::string reason = api::GetString(status, "reason").empty() ? phase : api::GetString(status, "reason");
  if (const json::object* c = Condition(conditions, "PodScheduled");
      c && api::GetString(*c, "reason") == "SchedulingGated") {
    reason = "SchedulingGated";
  }
  PrintedRow row;
  if (phase == "Succeeded" || phase == "Failed") {
    row.conditions.push_back(json::object{
        {"type", "Completed"},
        {"status", "True"},
        {"reason", phase},
        {"message", phase == "Succeeded" ? "The pod completed successfully." : "The pod failed."}});
  }

  int64_t total = static_cast<int64_t>(Size(spec, "containers"));
  int64_t ready = 0, restarts = 0, sidecar_restarts = 0;
  std::optional<Instant> last_restart, last_sidecar_restart;
  // Init containers with restartPolicy Always are sidecars: they count as containers.
  std::set<std::string> sidecars;
  const json::array& init_specs = api::GetArray(spec, "initContainers");
  for (const json::value& c : init_specs) {
    if (api::GetString(api::AsObject(c), "restartPolicy") == "Always") {
      sidecars.insert(api::GetString(api::AsObject(c), "name"));
      ++total;
    }
  }

  bool initializing = false;
  if (const json::array* inits = api::FindArray(status, "initContainerStatuses")) {
    for (size_t i = 0; i < inits->size(); ++i) {
      const json::object& cs = api::AsObject((*inits)[i]);
      const bool sidecar = sidecars.count(api::GetString(cs, "name")) > 0;
      restarts += api::GetInt(cs, "restartCount");
      NoteRestart(last_restart, cs);
      if (sidecar) {
        sidecar_restarts += api::GetInt(cs, "restartCount");
        NoteRestart(last_sidecar_restart, cs);
      }
      const json::object& state = api::GetObject(cs, "state");
      const json::object* terminated = api::FindObject(state, "terminated");
      const json::object* waiting = api::FindObject(state, "waiting");
      if (terminated && api::GetInt(*terminated, "exitCode") == 0) continue;
      if (sidecar && api::GetBool(cs, "started")) {
        if (api::GetBool(cs, "ready")) ++ready;
        continue;
      }
      if (terminated) {
        std::string r = api::GetString(*terminated, "reason");
        reason = r.empty() ? ExitReason(*terminated, "Init:") : "Init:" + r;
      } else if (waiting && !api::GetString(*waiting, "reason").empty() &&
                 api::GetString(*waiting, "reason") != "PodInitializing") {
        reason = "Init:" + api::GetString(*waiting, "reason");
      } else {
        reason = "Init:" + Ratio(static_cast<int64_t>(i), static_cast<int64_t>(init_specs.size()));
      }
      initializing = true;
      break;
    }
  }

  if (!initializing || ConditionTrue(conditions, "Initialized")) {
    restarts = sidecar_restarts;
    last_restart = last_sidecar_restart;
    bool has_running = false;
    if (const json::array* statuses = api::FindArray(status, "containerStatuses")) {
      for (size_t i = statuses->size(); i-- > 0;) {
        const json::object& cs = api::AsObject((*statuses)[i]);
        restarts += api::GetInt(cs, "restartCount");
        NoteRestart(last_restart, cs);
        const json::object& state = api::GetObject(cs, "state");
        const json::object* terminated = api::FindObject(state, "terminated");
        const json::object* waiting = api::FindObject(state, "waiting");
        if (waiting && !api::GetString(*waiting, "reason").empty()) {
          reason = api::GetString(*waiting, "reason");
        } else if (terminated && !api::GetString(*terminated, "reason").empty()) {
          reason = api::GetString(*terminated, "reason");
        } else if (terminated) {
          reason = ExitReason(*terminated, "");
        } else if (api::GetBool(cs, "ready") && api::Find(state, "running")) {
          has_running = true;
          ++ready;
        }
      }
    }
    // A pod whose containers partly completed but one still runs is Running (or NotReady).
    if (reason == "Completed" && has_running) {
      reason = ConditionTrue(conditions, "Ready") ? "Running" : "NotReady";
    }
  }

  if (api::IsBeingDeleted(pod) && api::GetString(status, "reason") == "NodeLost") {
    reason = "Unknown";
  } else if (api::IsBeingDeleted(pod) && phase != "Succeeded" && phase != "Failed") {
    reason = "Terminating";
  }

  std::string restarts_cell = std::to_string(restarts);
  if (restarts != 0 && last_restart) {
    restarts_cell += " (" + HumanDuration(Between(*last_restart, FromClock(ctx.now))) + " ago)";
  }
  Append(row, {json::value(api::Name(pod)), json::value(Ratio(ready, total)), json::value(reason),
               json::value(restarts_cell), json::value(Age(pod, ctx))});

  // Conversion from v1 makes podIP the first of podIPs (it wins when the two disagree).
  std::string ip = api::GetString(status, "podIP");
  if (const json::array* ips = api::FindArray(status, "podIPs"); ip.empty() && ips && !ips->empty()) {
    ip = api::GetString(api::AsObject((*ips)[0]), "ip");
  }
  std::string gates = "<none>";
  if (const json::array* rg = api::FindArray(spec, "readinessGates"); rg && !rg->empty()) {
    int64_t true_count = 0;
    for (const json::value& g : *rg) {
      if (ConditionTrue(conditions, api::GetString(api::AsObject(g), "conditionType"))) ++true_count;
    }
    gates = Ratio(true_count, static_cast<int64_t>(rg->size()));
  }
  Append(row, {json::value(NoneIfEmpty(ip)), json::value(NoneIfEmpty(api::GetString(spec, "nodeName"))),
               json::value(NoneIfEmpty(api::GetString(status, "nominatedNodeName"))), json::value(gates)});
  return row;
}

constexpr Column kPodTemplateColumns[] = {
    kNameCol,
    {"Containers", "string", "", "Names of the containers in the template.", 0},
    {"Images", "string", "", "Container images used by the template.", 0},
    {"Pod Labels", "string", "", "Labels the template gives its pods.", 0},
};

PrintedRow PrintPodTemplate(const json::object& o, const PrintContext&) {
  std::string names, images;
  ContainerCells(api::GetObject(o, {"template", "spec"}), &names, &images);
  return Row({json::value(api::Name(o)), json::value(names), json::value(images),
              json::value(FormatLabels(api::GetObject(o, {"template", "metadata", "labels"})))});
}

// ---- workload controllers -------------------------------------------------------------------------

constexpr Column kReplicationControllerColumns[] = {
    kNameCol,
    {"Desired", "integer", "", "Number of pods asked for.", 0},
    {"Current", "integer", "", "Number of pods that exist now.", 0},
    {"Ready", "integer", "", "Number of pods that are ready.", 0},
    kAgeCol,
    kContainersWide,
    kImagesWide,
    kSelectorWide,
};

PrintedRow PrintReplicationController(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  const json::object& status = api::GetObject(o, "status");
  std::string names, images;
  ContainerCells(api::GetObject(spec, {"template", "spec"}), &names, &images);
  return Row({json::value(api::Name(o)), json::value(api::GetInt(spec, "replicas", 1)),
              json::value(api::GetInt(status, "replicas")), json::value(api::GetInt(status, "readyReplicas")),
              json::value(Age(o, ctx)), json::value(names), json::value(images),
              json::value(FormatLabels(api::GetObject(spec, "selector")))});
}

constexpr Column kReplicaSetColumns[] = {
    kNameCol,
    {"Desired", "integer", "", "Number of pods asked for.", 0},
    {"Current", "integer", "", "Number of pods that exist now.", 0},
    {"Ready", "integer", "", "Number of pods that are ready.", 0},
    kAgeCol,
    kContainersWide,
    kImagesWide,
    kSelectorWide,
};

PrintedRow PrintReplicaSet(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  const json::object& status = api::GetObject(o, "status");
  std::string names, images;
  ContainerCells(api::GetObject(spec, {"template", "spec"}), &names, &images);
  return Row({json::value(api::Name(o)), json::value(api::GetInt(spec, "replicas", 1)),
              json::value(api::GetInt(status, "replicas")), json::value(api::GetInt(status, "readyReplicas")),
              json::value(Age(o, ctx)), json::value(names), json::value(images),
              json::value(FormatLabelSelector(api::Find(spec, "selector")))});
}

constexpr Column kDeploymentColumns[] = {
    kNameCol,
    {"Ready", "string", "", "Ready pods out of the desired number.", 0},
    {"Up-to-date", "string", "", "Pods that run the current pod template.", 0},
    {"Available", "string", "", "Pods available to serve (ready for at least minReadySeconds).", 0},
    kAgeCol,
    kContainersWide,
    kImagesWide,
    kSelectorWide,
};

PrintedRow PrintDeployment(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  const json::object& status = api::GetObject(o, "status");
  std::string names, images;
  ContainerCells(api::GetObject(spec, {"template", "spec"}), &names, &images);
  return Row({json::value(api::Name(o)),
              json::value(Ratio(api::GetInt(status, "readyReplicas"), api::GetInt(spec, "replicas", 1))),
              json::value(api::GetInt(status, "updatedReplicas")),
              json::value(api::GetInt(status, "availableReplicas")), json::value(Age(o, ctx)), json::value(names),
              json::value(images), json::value(LabelSelectorString(api::Find(spec, "selector")))});
}

constexpr Column kDaemonSetColumns[] = {
    kNameCol,
    {"Desired", "integer", "", "Nodes that should run the daemon pod.", 0},
    {"Current", "integer", "", "Nodes running at least one daemon pod.", 0},
    {"Ready", "integer", "", "Nodes whose daemon pod is ready.", 0},
    {"Up-to-date", "integer", "", "Nodes running the current pod template.", 0},
    {"Available", "integer", "", "Nodes whose daemon pod is available.", 0},
    {"Node Selector", "string", "", "Node labels the pod template requires.", 0},
    kAgeCol,
    kContainersWide,
    kImagesWide,
    kSelectorWide,
};

PrintedRow PrintDaemonSet(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  const json::object& status = api::GetObject(o, "status");
  const json::object& pod_spec = api::GetObject(spec, {"template", "spec"});
  std::string names, images;
  ContainerCells(pod_spec, &names, &images);
  return Row(
      {json::value(api::Name(o)), json::value(api::GetInt(status, "desiredNumberScheduled")),
       json::value(api::GetInt(status, "currentNumberScheduled")), json::value(api::GetInt(status, "numberReady")),
       json::value(api::GetInt(status, "updatedNumberScheduled")), json::value(api::GetInt(status, "numberAvailable")),
       json::value(FormatLabels(api::GetObject(pod_spec, "nodeSelector"))), json::value(Age(o, ctx)),
       json::value(names), json::value(images), json::value(FormatLabelSelector(api::Find(spec, "selector")))});
}

constexpr Column kStatefulSetColumns[] = {
    kNameCol,
    {"Ready", "string", "", "Ready pods out of the desired number.", 0},
    kAgeCol,
    kContainersWide,
    kImagesWide,
};

PrintedRow PrintStatefulSet(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  std::string names, images;
  ContainerCells(api::GetObject(spec, {"template", "spec"}), &names, &images);
  return Row(
      {json::value(api::Name(o)),
       json::value(Ratio(api::GetInt(api::GetObject(o, "status"), "readyReplicas"), api::GetInt(spec, "replicas", 1))),
       json::value(Age(o, ctx)), json::value(names), json::value(images)});
}

constexpr Column kControllerRevisionColumns[] = {
    kNameCol,
    {"Controller", "string", "", "The object that controls this revision.", 0},
    {"Revision", "string", "", "Revision number of the state this object records.", 0},
    kAgeCol,
};

PrintedRow PrintControllerRevision(const json::object& o, const PrintContext& ctx) {
  std::string controller = "<none>";
  if (const json::array* refs = api::FindArray(api::Metadata(o), "ownerReferences")) {
    for (const json::value& v : *refs) {
      const json::object& ref = api::AsObject(v);
      if (!api::GetBool(ref, "controller")) continue;
      std::string api_version = api::GetString(ref, "apiVersion"), kind = api::GetString(ref, "kind");
      size_t slash = api_version.find('/');
      std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
      std::string group_kind = group.empty() ? kind : kind + "." + group;
      controller =
          group_kind.empty() ? api::GetString(ref, "name") : ToLower(group_kind) + "/" + api::GetString(ref, "name");
      break;
    }
  }
  return Row({json::value(api::Name(o)), json::value(controller), json::value(api::GetInt(o, "revision")),
              json::value(Age(o, ctx))});
}

constexpr Column kJobColumns[] = {
    kNameCol,
    {"Status", "string", "", "The job's state: Running, Complete, Failed, Suspended, ...", 0},
    {"Completions", "string", "", "Succeeded pods out of the completions asked for.", 0},
    {"Duration", "string", "", "How long the job ran, or has been running.", 0},
    kAgeCol,
    kContainersWide,
    kImagesWide,
    kSelectorWide,
};

PrintedRow PrintJob(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  const json::object& status = api::GetObject(o, "status");
  const int64_t succeeded = api::GetInt(status, "succeeded");
  std::string completions;
  if (api::Find(spec, "completions")) {
    completions = Ratio(succeeded, api::GetInt(spec, "completions"));
  } else if (int64_t parallelism = api::GetInt(spec, "parallelism"); parallelism > 1) {
    completions = Ratio(succeeded, 1) + " of " + std::to_string(parallelism);
  } else {
    completions = Ratio(succeeded, 1);
  }
  std::string duration;
  if (auto start = Time(status, "startTime")) {
    auto end = Time(status, "completionTime");
    duration = HumanDuration(Between(*start, end ? *end : FromClock(ctx.now)));
  }
  const json::array& conds = api::GetArray(status, "conditions");
  std::string state = ConditionTrue(conds, "Complete")         ? "Complete"
                      : ConditionTrue(conds, "Failed")         ? "Failed"
                      : api::IsBeingDeleted(o)                            ? "Terminating"
                      : ConditionTrue(conds, "Suspended")      ? "Suspended"
                      : ConditionTrue(conds, "FailureTarget") ? "FailureTarget"
                                                               : "Running";
  std::string names, images;
  ContainerCells(api::GetObject(spec, {"template", "spec"}), &names, &images);
  return Row({json::value(api::Name(o)), json::value(state), json::value(completions), json::value(duration),
              json::value(Age(o, ctx)), json::value(names), json::value(images),
              json::value(FormatLabelSelector(api::Find(spec, "selector")))});
}

constexpr Column kCronJobColumns[] = {
    kNameCol,
    {"Schedule", "string", "", "The cron schedule.", 0},
    {"Timezone", "string", "", "Time zone the schedule is read in.", 0},
    {"Suspend", "boolean", "", "Whether new runs are suspended.", 0},
    {"Active", "integer", "", "Number of jobs running now.", 0},
    {"Last Schedule", "string", "", "Time since a job was last scheduled.", 0},
    kAgeCol,
    kContainersWide,
    kImagesWide,
    kSelectorWide,
};

PrintedRow PrintCronJob(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  const json::object& status = api::GetObject(o, "status");
  const json::object& job_spec = api::GetObject(spec, {"jobTemplate", "spec"});
  std::string last =
      api::Find(status, "lastScheduleTime") ? AgeOf(api::Find(status, "lastScheduleTime"), ctx.now) : "<none>";
  std::string tz = api::Find(spec, "timeZone") ? api::GetString(spec, "timeZone") : "<none>";
  // upstream prints the (defaulted to false) bool pointer as "True"/"False"
  std::string suspend = api::GetBool(spec, "suspend") ? "True" : "False";
  std::string names, images;
  ContainerCells(api::GetObject(job_spec, {"template", "spec"}), &names, &images);
  return Row({json::value(api::Name(o)), json::value(api::GetString(spec, "schedule")), json::value(tz),
              json::value(suspend), json::value(static_cast<int64_t>(Size(status, "active"))), json::value(last),
              json::value(Age(o, ctx)), json::value(names), json::value(images),
              json::value(FormatLabelSelector(api::Find(job_spec, "selector")))});
}
// ---- autoscaling ---------------------------------------------------------------------------------

constexpr Column kHorizontalPodAutoscalerColumns[] = {
    kNameCol,
    {"Reference", "string", "", "The scaled object (Kind/name).", 0},
    {"Targets", "string", "", "Current/target values of the scaling metrics.", 0},
    {"MinPods", "string", "", "Lower bound on the replica count.", 0},
    {"MaxPods", "string", "", "Upper bound on the replica count.", 0},
    {"Replicas", "string", "", "Current replica count.", 0},
    kAgeCol,
};

// A Quantity pointer member printed as upstream's (*Quantity).String() does.
std::string QuantityPtr(const json::object& o, std::string_view key) {
  const json::value* v = api::Find(o, key);
  return v ? QuantityString(v) : "<nil>";
}

std::string Percent(int64_t v) { return std::to_string(v) + "%"; }

std::string FormatHpaMetrics(const json::array& specs, const json::array& statuses) {
  if (specs.empty()) return "<none>";
  static const json::value kNone;
  // The status of metric i: its `member` (nullptr when absent) and that member's "current".
  auto entry = [&](size_t i) -> const json::object& {
    return api::AsObject(i < statuses.size() ? statuses[i] : kNone);
  };
  auto status_of = [&](size_t i, std::string_view member) { return api::FindObject(entry(i), member); };
  auto current_of = [&](size_t i, std::string_view member) -> const json::object& {
    return api::GetObject(entry(i), {member, "current"});
  };
  std::vector<std::string> list;
  for (size_t i = 0; i < specs.size(); ++i) {
    const json::object& spec = api::AsObject(specs[i]);
    const std::string type = api::GetString(spec, "type");
    if (type == "External" || type == "Object") {
      const char* member = type == "External" ? "external" : "object";
      const json::object& target = api::GetObject(spec, {member, "target"});
      const json::object* st = status_of(i, member);
      const json::object& current = current_of(i, member);
      if (api::Find(target, "averageValue")) {
        std::string cur = api::Find(current, "averageValue") ? QuantityPtr(current, "averageValue") : "<unknown>";
        list.push_back(cur + "/" + QuantityPtr(target, "averageValue") + " (avg)");
      } else {
        std::string cur = st ? QuantityPtr(current, "value") : "<unknown>";
        list.push_back(cur + "/" + QuantityPtr(target, "value"));
      }
    } else if (type == "Pods") {
      const json::object* st = status_of(i, "pods");
      std::string cur = st ? QuantityPtr(current_of(i, "pods"), "averageValue") : "<unknown>";
      list.push_back(cur + "/" + QuantityPtr(api::GetObject(spec, {"pods", "target"}), "averageValue"));
    } else if (type == "Resource" || type == "ContainerResource") {
      const char* member = type == "Resource" ? "resource" : "containerResource";
      const json::object& src = api::GetObject(spec, member);
      const json::object& target = api::GetObject(src, "target");
      const json::object& current = current_of(i, member);
      const bool have_status = status_of(i, member) != nullptr;
      std::string name = api::GetString(src, "name");
      if (api::Find(target, "averageValue")) {
        std::string cur = have_status ? QuantityPtr(current, "averageValue") : "<unknown>";
        list.push_back(name + ": " + cur + "/" + QuantityPtr(target, "averageValue"));
      } else {
        std::string cur = api::Find(current, "averageUtilization") ? Percent(api::GetInt(current, "averageUtilization"))
                                                                   : "<unknown>";
        std::string tgt =
            api::Find(target, "averageUtilization") ? Percent(api::GetInt(target, "averageUtilization")) : "<auto>";
        list.push_back(name + ": " + cur + "/" + tgt);
      }
    } else {
      list.push_back("<unknown type>");
    }
  }
  constexpr size_t kMax = 2;
  if (list.size() > kMax) {
    size_t extra = list.size() - kMax;
    list.resize(kMax);
    return Join(list, ", ") + " + " + std::to_string(extra) + " more...";
  }
  return Join(list, ", ");
}

PrintedRow PrintHorizontalPodAutoscaler(const json::object& o, const PrintContext& ctx) {
  const json::object& spec = api::GetObject(o, "spec");
  const json::object& status = api::GetObject(o, "status");
  json::array specs, statuses;
  if (api::Find(spec, "targetCPUUtilizationPercentage") || api::Find(status, "currentCPUUtilizationPercentage")) {
    // autoscaling/v1: conversion turns the CPU percentages into a Resource metric.
    if (api::Find(spec, "targetCPUUtilizationPercentage")) {
      specs.push_back(json::object{
          {"type", "Resource"},
          {"resource", json::object{{"name", "cpu"},
                                    {"target", json::object{{"type", "Utilization"},
                                                            {"averageUtilization",
                                                             api::GetInt(spec, "targetCPUUtilizationPercentage")}}}}}});
    }
    if (api::Find(status, "currentCPUUtilizationPercentage")) {
      statuses.push_back(json::object{
          {"type", "Resource"},
          {"resource",
           json::object{{"name", "cpu"},
                        {"current", json::object{{"averageUtilization",
                                                  api::GetInt(status, "currentCPUUtilizationPercentage")}}}}}});
    }
  } else if (const json::array* m = api::FindArray(spec, "metrics"); m && !m->empty()) {
    specs = *m;
    if (const json::array* cur = api::FindArray(status, "currentMetrics")) statuses = *cur;
  } else {
    // Defaulting gives an HPA without metrics an 80% average CPU utilization target.
    specs.push_back(json::object{
        {"type", "Resource"},
        {"resource",
         json::object{{"name", "cpu"},
                      {"target", json::object{{"type", "Utilization"}, {"averageUtilization", 80}}}}}});
    if (const json::array* cur = api::FindArray(status, "currentMetrics")) statuses = *cur;
  }
  const json::object& ref = api::GetObject(spec, "scaleTargetRef");
  return Row({json::value(api::Name(o)), json::value(api::GetString(ref, "kind") + "/" + api::GetString(ref, "name")),
              json::value(FormatHpaMetrics(specs, statuses)),
              json::value(std::to_string(api::GetInt(spec, "minReplicas", 1))),
              json::value(api::GetInt(spec, "maxReplicas")), json::value(api::GetInt(status, "currentReplicas")),
              json::value(Age(o, ctx))});
}
// ---- registry ------------------------------------------------------------------------------------

const PrinterEntry kWorkloadPrinters[] = {
    {"", "pods", {kPodColumns, PrintPod}},
    {"", "podtemplates", {kPodTemplateColumns, PrintPodTemplate}},
    {"", "replicationcontrollers", {kReplicationControllerColumns, PrintReplicationController}},
    {"apps", "deployments", {kDeploymentColumns, PrintDeployment}},
    {"apps", "replicasets", {kReplicaSetColumns, PrintReplicaSet}},
    {"apps", "daemonsets", {kDaemonSetColumns, PrintDaemonSet}},
    {"apps", "statefulsets", {kStatefulSetColumns, PrintStatefulSet}},
    {"apps", "controllerrevisions", {kControllerRevisionColumns, PrintControllerRevision}},
    {"autoscaling", "horizontalpodautoscalers", {kHorizontalPodAutoscalerColumns, PrintHorizontalPodAutoscaler}},
    {"batch", "jobs", {kJobColumns, PrintJob}},
    {"batch", "cronjobs", {kCronJobColumns, PrintCronJob}},
};

}  // namespace

std::span<const PrinterEntry> WorkloadPrinters() { return kWorkloadPrinters; }

}  // namespace kite::apiserver::tables
