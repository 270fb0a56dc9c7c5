#include "api/defaults.h"

#include <boost/json.hpp>

#include "api/object.h"
#include "api/pod.h"

namespace kite::api {
namespace json = boost::json;

namespace {

void Set(json::object& o, const char* key, json::value v) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) o[key] = std::move(v);
}

void DefaultPorts(json::object& c, const char* list) {
  auto it = c.find(list);
  if (it == c.end() || !it->value().is_array()) return;
  for (auto& p : it->value().as_array()) {
    if (p.is_object()) Set(p.as_object(), "protocol", "TCP");
  }
}

void DefaultProbe(json::object& c, const char* name) {
  auto it = c.find(name);
  if (it == c.end() || !it->value().is_object()) return;
  auto& p = it->value().as_object();
  Set(p, "timeoutSeconds", 1);
  Set(p, "periodSeconds", 10);
  Set(p, "successThreshold", 1);
  Set(p, "failureThreshold", 3);
  if (auto h = p.find("httpGet"); h != p.end() && h->value().is_object()) {
    Set(h->value().as_object(), "path", "/");
    Set(h->value().as_object(), "scheme", "HTTP");
  }
}

void DefaultContainer(json::object& c) {
  std::string image = GetString(c, "image");
  // :latest or no tag pulls every time; a tag or digest only when missing (upstream's rule).
  auto slash = image.rfind('/');
  std::string last = slash == std::string::npos ? image : image.substr(slash + 1);
  bool digest = image.find('@') != std::string::npos;
  auto colon = last.find(':');
  bool latest = !digest && (colon == std::string::npos || last.substr(colon + 1) == "latest");
  Set(c, "imagePullPolicy", latest ? "Always" : "IfNotPresent");
  Set(c, "terminationMessagePath", "/dev/termination-log");
  Set(c, "terminationMessagePolicy", "File");
  Set(c, "resources", json::object());
  DefaultPorts(c, "ports");
  for (const char* p : {"livenessProbe", "readinessProbe", "startupProbe"}) DefaultProbe(c, p);
  if (auto it = c.find("env"); it != c.end() && it->value().is_array()) {
    for (auto& e : it->value().as_array()) {
      if (!e.is_object()) continue;
      auto vf = e.as_object().find("valueFrom");
      if (vf == e.as_object().end() || !vf->value().is_object()) continue;
      if (auto fr = vf->value().as_object().find("fieldRef"); fr != vf->value().as_object().end() && fr->value().is_object()) {
        Set(fr->value().as_object(), "apiVersion", "v1");
      }
    }
  }
}

void DefaultContainers(json::object& spec, const char* list) {
  auto it = spec.find(list);
  if (it == spec.end() || !it->value().is_array()) return;
  for (auto& c : it->value().as_array()) {
    if (c.is_object()) DefaultContainer(c.as_object());
  }
}

void DefaultTemplate(json::object& owner_spec) {
  auto it = owner_spec.find("template");
  if (it == owner_spec.end() || !it->value().is_object()) return;
  auto& t = it->value().as_object();
  auto& meta = MutableObject(t, "metadata");
  (void)meta;
  DefaultPodSpec(MutableObject(t, "spec"));
}

void DefaultVolumes(json::object& spec) {
  auto it = spec.find("volumes");
  if (it == spec.end() || !it->value().is_array()) return;
  for (auto& v : it->value().as_array()) {
    if (!v.is_object()) continue;
    auto& vol = v.as_object();
    for (const char* src : {"configMap", "secret", "projected", "downwardAPI"}) {
      auto s = vol.find(src);
      if (s != vol.end() && s->value().is_object()) Set(s->value().as_object(), "defaultMode", 420);
    }
    // A volume with no source is an emptyDir (upstream's SetDefaults_Volume).
    bool any = false;
    for (auto& kv : vol) any |= kv.key() != "name";
    if (!any) vol["emptyDir"] = json::object();
  }
}

void DefaultLabelsFromTemplate(json::object& obj, json::object& spec) {
  // ReplicationController: selector and labels default from the template's labels.
  auto t = spec.find("template");
  if (t == spec.end() || !t->value().is_object()) return;
  auto tm = t->value().as_object().find("metadata");
  if (tm == t->value().as_object().end() || !tm->value().is_object()) return;
  auto l = tm->value().as_object().find("labels");
  if (l == tm->value().as_object().end() || !l->value().is_object()) return;
  Set(spec, "selector", l->value());
  Set(MutableObject(obj, "metadata"), "labels", l->value());
}

}  // namespace

void DefaultPodSpec(json::object& spec) {
  Set(spec, "restartPolicy", "Always");
  Set(spec, "terminationGracePeriodSeconds", 30);
  Set(spec, "dnsPolicy", "ClusterFirst");
  Set(spec, "securityContext", json::object());
  Set(spec, "schedulerName", "default-scheduler");
  Set(spec, "enableServiceLinks", true);
  if (!GetString(spec, "serviceAccountName").empty()) Set(spec, "serviceAccount", json::string(GetString(spec, "serviceAccountName")));
  DefaultContainers(spec, "containers");
  DefaultContainers(spec, "initContainers");
  DefaultContainers(spec, "ephemeralContainers");
  DefaultVolumes(spec);
  if (auto it = spec.find("tolerations"); it != spec.end() && it->value().is_array()) {
    for (auto& t : it->value().as_array()) {
      if (t.is_object() && !t.as_object().contains("key") && !t.as_object().contains("operator")) {
        t.as_object()["operator"] = "Exists";
      }
    }
  }
}

void AddDefaultTolerationSeconds(json::object& spec) {
  json::value& tv = spec["tolerations"];
  if (!tv.is_array()) tv = json::array();
  json::array& tols = tv.as_array();
  for (const char* key : {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}) {
    bool tolerated = false;
    for (const auto& t : tols) {
      if (!t.is_object()) continue;
      const std::string k = GetString(t.as_object(), "key"), effect = GetString(t.as_object(), "effect");
      tolerated |= (k == key || k.empty()) && (effect == "NoExecute" || effect.empty());
    }
    if (!tolerated) {
      tols.push_back(json::object{{"key", key}, {"operator", "Exists"}, {"effect", "NoExecute"}, {"tolerationSeconds", 300}});
    }
  }
}

void ApplyDefaults(const ResourceInfo& r, json::object& obj) {
  const std::string& k = r.kind;
  if (r.group.empty()) {
    if (k == "Pod") {
      auto& spec = MutableObject(obj, "spec");
      DefaultPodSpec(spec);
      auto& status = MutableObject(obj, "status");
      Set(status, "phase", "Pending");
      Set(status, "qosClass", json::string(PodQOSClass(obj)));
    } else if (k == "PodTemplate") {
      DefaultTemplate(obj);
    } else if (k == "ReplicationController") {
      auto& spec = MutableObject(obj, "spec");
      Set(spec, "replicas", 1);
      DefaultLabelsFromTemplate(obj, spec);
      DefaultTemplate(spec);
    } else if (k == "Service") {
      auto& spec = MutableObject(obj, "spec");
      Set(spec, "type", "ClusterIP");
      Set(spec, "sessionAffinity", "None");
      if (GetString(spec, "type") != "ExternalName") {
        Set(spec, "internalTrafficPolicy", "Cluster");
        Set(spec, "ipFamilyPolicy", "SingleStack");
        Set(spec, "ipFamilies", json::array{"IPv4"});
      }
      if (GetString(spec, "type") == "NodePort" || GetString(spec, "type") == "LoadBalancer") {
        Set(spec, "externalTrafficPolicy", "Cluster");
      }
      if (GetString(spec, "type") == "LoadBalancer") Set(spec, "allocateLoadBalancerNodePorts", true);
      if (auto it = spec.find("ports"); it != spec.end() && it->value().is_array()) {
        for (auto& p : it->value().as_array()) {
          if (!p.is_object()) continue;
          auto& port = p.as_object();
          Set(port, "protocol", "TCP");
          // Unset, or 0 (what a protobuf body carries for "unset"): the port itself.
          auto tp = port.find("targetPort");
          bool unset = tp == port.end() || tp->value().is_null() || (tp->value().is_int64() && tp->value().as_int64() == 0) ||
                       (tp->value().is_string() && tp->value().as_string().empty());
          if (auto pv = port.find("port"); pv != port.end() && unset) port["targetPort"] = pv->value();
        }
      }
      Set(obj, "status", json::object{{"loadBalancer", json::object()}});
    } else if (k == "Secret") {
      Set(obj, "type", "Opaque");
    } else if (k == "Namespace") {
      auto& meta = MutableObject(obj, "metadata");
      // The name first, as a copy: inserting into `meta` may move the labels object, so no
      // reference into it is held across another insertion (a nameless body crashed here).
      json::value name = meta.contains("name") ? meta.at("name") : json::value(nullptr);
      MutableObject(meta, "labels")["kubernetes.io/metadata.name"] = std::move(name);
      Set(MutableObject(obj, "spec"), "finalizers", json::array{"kubernetes"});
      Set(MutableObject(obj, "status"), "phase", "Active");
    } else if (k == "PersistentVolumeClaim") {
      Set(MutableObject(obj, "spec"), "volumeMode", "Filesystem");
      Set(MutableObject(obj, "status"), "phase", "Pending");
    } else if (k == "PersistentVolume") {
      Set(MutableObject(obj, "spec"), "persistentVolumeReclaimPolicy", "Retain");
      Set(MutableObject(obj, "spec"), "volumeMode", "Filesystem");
      Set(MutableObject(obj, "status"), "phase", "Pending");
    } else if (k == "Node") {
      auto& status = MutableObject(obj, "status");
      (void)status;
    }
    return;
  }
  if (r.group == "apps") {
    auto& spec = MutableObject(obj, "spec");
    if (k == "Deployment") {
      Set(spec, "replicas", 1);
      auto& strategy = MutableObject(spec, "strategy");
      Set(strategy, "type", "RollingUpdate");
      if (GetString(strategy, "type") == "RollingUpdate") {
        auto& ru = MutableObject(strategy, "rollingUpdate");
        Set(ru, "maxUnavailable", "25%");
        Set(ru, "maxSurge", "25%");
      }
      Set(spec, "revisionHistoryLimit", 10);
      Set(spec, "progressDeadlineSeconds", 600);
    } else if (k == "ReplicaSet") {
      Set(spec, "replicas", 1);
    } else if (k == "DaemonSet") {
      auto& us = MutableObject(spec, "updateStrategy");
      Set(us, "type", "RollingUpdate");
      if (GetString(us, "type") == "RollingUpdate") {
        auto& ru = MutableObject(us, "rollingUpdate");
        Set(ru, "maxUnavailable", 1);
        Set(ru, "maxSurge", 0);
      }
      Set(spec, "revisionHistoryLimit", 10);
    } else if (k == "StatefulSet") {
      Set(spec, "replicas", 1);
      Set(spec, "podManagementPolicy", "OrderedReady");
      auto& us = MutableObject(spec, "updateStrategy");
      Set(us, "type", "RollingUpdate");
      if (GetString(us, "type") == "RollingUpdate") Set(MutableObject(us, "rollingUpdate"), "partition", 0);
      Set(spec, "revisionHistoryLimit", 10);
      auto& pvc = MutableObject(spec, "persistentVolumeClaimRetentionPolicy");
      Set(pvc, "whenDeleted", "Retain");
      Set(pvc, "whenScaled", "Retain");
    }
    if (k != "ControllerRevision") DefaultTemplate(spec);
    if (k == "ControllerRevision") obj.erase("spec");
    return;
  }
  if (r.group == "batch") {
    auto& spec = MutableObject(obj, "spec");
    auto job_defaults = [](json::object& js) {
      // Neither set: one pod to completion. Only parallelism set: a work queue (no completions).
      if (!js.contains("completions") && !js.contains("parallelism")) js["completions"] = 1;
      Set(js, "parallelism", 1);
      Set(js, "backoffLimit", 6);
      Set(js, "completionMode", "NonIndexed");
      Set(js, "suspend", false);
      Set(js, "podReplacementPolicy", "TerminatingOrFailed");
      DefaultTemplate(js);
    };
    if (k == "Job") {
      job_defaults(spec);
    } else if (k == "CronJob") {
      Set(spec, "concurrencyPolicy", "Allow");
      Set(spec, "suspend", false);
      Set(spec, "successfulJobsHistoryLimit", 3);
      Set(spec, "failedJobsHistoryLimit", 1);
      auto& jt = MutableObject(spec, "jobTemplate");
      auto& js = MutableObject(jt, "spec");
      DefaultTemplate(js);
      Set(js, "backoffLimit", 6);
      Set(js, "completionMode", "NonIndexed");
      Set(js, "suspend", false);
      Set(js, "podReplacementPolicy", "TerminatingOrFailed");
    }
    return;
  }
  if (r.group == "rbac.authorization.k8s.io") {
    if (k == "RoleBinding" || k == "ClusterRoleBinding") {
      auto it = obj.find("subjects");
      if (it != obj.end() && it->value().is_array()) {
        for (auto& s : it->value().as_array()) {
          if (!s.is_object()) continue;
          std::string sk = GetString(s.as_object(), "kind");
          if (sk == "User" || sk == "Group") Set(s.as_object(), "apiGroup", "rbac.authorization.k8s.io");
        }
      }
    }
    return;
  }
  if (r.group == "policy" && k == "PodDisruptionBudget") return;
  if (r.group == "autoscaling" && k == "HorizontalPodAutoscaler") {
    Set(MutableObject(obj, "spec"), "minReplicas", 1);
    return;
  }
  if (r.group == "networking.k8s.io" && k == "NetworkPolicy") {
    auto& spec = MutableObject(obj, "spec");
    if (!spec.contains("policyTypes")) {
      json::array types{"Ingress"};
      if (spec.contains("egress")) types.push_back("Egress");
      spec["policyTypes"] = types;
    }
    return;
  }
  if (r.group == "apiregistration.k8s.io" && k == "APIService") {
    // Upstream's SetDefaults_ServiceReference.
    if (auto spec = obj.find("spec"); spec != obj.end() && spec->value().is_object()) {
      auto& sp = spec->value().as_object();
      if (auto svc = sp.find("service"); svc != sp.end() && svc->value().is_object()) Set(svc->value().as_object(), "port", 443);
    }
    return;
  }
  if (r.group == "storage.k8s.io" && k == "StorageClass") {
    Set(obj, "reclaimPolicy", "Delete");
    Set(obj, "volumeBindingMode", "Immediate");
    return;
  }
  if (r.group == "admissionregistration.k8s.io") {
    // Upstream's SetDefaults_ValidatingWebhook / _MutatingWebhook, _Rule and _ServiceReference.
    auto hooks = obj.find("webhooks");
    if (hooks == obj.end() || !hooks->value().is_array()) return;
    for (auto& w : hooks->value().as_array()) {
      if (!w.is_object()) continue;
      json::object& hook = w.as_object();
      Set(hook, "failurePolicy", "Fail");
      Set(hook, "matchPolicy", "Equivalent");
      Set(hook, "namespaceSelector", json::object());
      Set(hook, "objectSelector", json::object());
      Set(hook, "timeoutSeconds", 10);
      if (k == "MutatingWebhookConfiguration") Set(hook, "reinvocationPolicy", "Never");
      if (auto rules = hook.find("rules"); rules != hook.end() && rules->value().is_array()) {
        for (auto& rule : rules->value().as_array()) {
          if (rule.is_object()) Set(rule.as_object(), "scope", "*");
        }
      }
      if (auto it = hook.find("clientConfig"); it != hook.end() && it->value().is_object()) {
        if (auto svc = it->value().as_object().find("service"); svc != it->value().as_object().end() && svc->value().is_object()) {
          Set(svc->value().as_object(), "port", 443);
        }
      }
    }
    return;
  }
  if (r.group == "scheduling.k8s.io" && k == "PriorityClass") {
    Set(obj, "preemptionPolicy", "PreemptLowerPriority");
    return;
  }
}

}  // namespace kite::api
