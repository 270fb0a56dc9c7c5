#include "server/controllers/podgc/pod_gc_controller.h"

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <mutex>

#include "api/object.h"
#include "api/time.h"
#include "base/log.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/informer.h"
#include "client/status_update.h"
#include "server/controllers/common/resync.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace podgc {

std::vector<client::ObjectPtr> TerminatedToDelete(const std::vector<client::ObjectPtr>& pods, int64_t threshold) {
  if (threshold <= 0) return {};
  std::vector<client::ObjectPtr> terminated;
  for (const auto& p : pods) {
    std::string phase = api::GetString(*p, {"status", "phase"});
    if ((phase == "Succeeded" || phase == "Failed") && !api::IsBeingDeleted(*p)) {
      terminated.push_back(p);
    }
  }
  if (static_cast<int64_t>(terminated.size()) <= threshold) return {};
  std::sort(terminated.begin(), terminated.end(), [](const client::ObjectPtr& a, const client::ObjectPtr& b) {
    const auto& ma = api::Metadata(*a);
    const auto& mb = api::Metadata(*b);
    return std::make_pair(api::GetString(ma, "creationTimestamp"), client::Key(*a)) < std::make_pair(api::GetString(mb, "creationTimestamp"), client::Key(*b));
  });
  terminated.resize(terminated.size() - static_cast<size_t>(threshold));
  return terminated;
}

}  // namespace podgc

namespace {

constexpr const char kKey[] = "podgc";
constexpr auto kPeriod = std::chrono::seconds(20);

class PodGCController final : public client::Controller {
 public:
  PodGCController(const client::Client* c, int64_t threshold, std::chrono::milliseconds quarantine,
                  const kite::Clock* clock)
      : Controller("podgc", 1, clock), client_(c), pods_r_(api::FindResource("", "v1", "pods")),
        nodes_r_(api::FindResource("", "v1", "nodes")), threshold_(threshold), quarantine_(quarantine) {}

  void Init(client::InformerFactory& f) override {
    pods_ = f.For(*pods_r_);
    nodes_ = f.For(*nodes_r_);
    // A node gone: look again once its quarantine is over.
    nodes_->AddHandler(client::EventHandler{nullptr, nullptr, [this](const ObjectPtr&) {
                                              queue_.AddAfter(kKey, quarantine_ + std::chrono::seconds(1));
                                            }});
    queue_.Add(kKey);
  }

  Status Reconcile(const std::string&) override {
    resync_.After(queue_, kKey, kPeriod);
    const auto pods = pods_->List();
    Status result;
    for (const auto& p : podgc::TerminatedToDelete(pods, threshold_)) {
      KITE_LOG(1) << "podgc: deleting terminated pod " << client::Key(*p);
      if (auto s = ForceDelete(*p); !s.ok()) result = s;
    }
    const auto now = clock()->SteadyNow();
    std::map<std::string, bool> node_gone;  // node name → confirmed missing
    for (const auto& p : pods) {
      const auto& meta = api::Metadata(*p);
      const std::string node = api::GetString(*p, {"spec", "nodeName"});
      if (node.empty()) {
        if (meta.contains("deletionTimestamp")) {
          KITE_LOG(1) << "podgc: deleting unscheduled terminating pod " << client::Key(*p);
          if (auto s = ForceDelete(*p); !s.ok()) result = s;
        }
        continue;
      }
      ObjectPtr n = nodes_->Get("", node);
      if (n) {
        if (meta.contains("deletionTimestamp") && OutOfService(*n)) {
          KITE_LOG(1) << "podgc: deleting terminating pod " << client::Key(*p) << " on out-of-service node " << node;
          if (auto s = ForceDelete(*p); !s.ok()) result = s;
        }
        continue;
      }
      auto it = node_gone.find(node);
      if (it == node_gone.end()) it = node_gone.emplace(node, NodeGone(node, now)).first;
      if (!it->second) continue;
      KITE_LOG(1) << "podgc: deleting pod " << client::Key(*p) << " bound to missing node " << node;
      if (auto s = MarkFailed(*p); !s.ok()) result = s;
      if (auto s = ForceDelete(*p); !s.ok()) result = s;
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = missing_since_.begin(); it != missing_since_.end();) {
      it = node_gone.count(it->first) ? std::next(it) : missing_since_.erase(it);
    }
    return result;
  }

 private:
  // Missing from the cache for the quarantine, and confirmed by the API server.
  bool NodeGone(const std::string& node, std::chrono::steady_clock::time_point now) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto [it, fresh] = missing_since_.try_emplace(node, now);
      if (fresh || now - it->second < quarantine_) {
        queue_.AddAfter(kKey, quarantine_ - (now - it->second) + std::chrono::seconds(1));
        return false;
      }
    }
    return client_->Get(*nodes_r_, "", node).NotFound();
  }

  static bool OutOfService(const json::object& node) {
    bool tainted = false;
    for (const auto& t : api::GetArray(node, {"spec", "taints"})) {
      tainted |= t.is_object() && api::GetString(t.as_object(), "key") == "node.kubernetes.io/out-of-service" &&
                 api::GetString(t.as_object(), "effect") == "NoExecute";
    }
    if (!tainted) return false;
    for (const auto& c : api::GetArray(node, {"status", "conditions"})) {
      if (c.is_object() && api::GetString(c.as_object(), "type") == "Ready") return api::GetString(c.as_object(), "status") != "True";
    }
    return true;
  }

  // Upstream records why the pod ended before deleting it (DisruptionTarget, phase Failed).
  Status MarkFailed(const json::object& pod) {
    std::string phase = api::GetString(pod, {"status", "phase"});
    if (phase == "Succeeded" || phase == "Failed") return Status::Ok();
    json::object status = api::GetObject(pod, "status");
    status["phase"] = "Failed";
    json::array conds;
    for (const auto& c : api::GetArray(status, "conditions")) {
      if (!(c.is_object() && api::GetString(c.as_object(), "type") == "DisruptionTarget")) conds.push_back(c);
    }
    conds.push_back(json::object{{"type", "DisruptionTarget"},
                                 {"status", "True"},
                                 {"reason", "DeletionByPodGC"},
                                 {"message", "PodGC: node no longer exists"},
                                 {"lastTransitionTime", api::FormatTime(clock()->Now())}});
    status["conditions"] = std::move(conds);
    Status s = client::UpdateStatusIfChanged(*client_, *pods_r_, pod, std::move(status));
    if (s.IsConflict()) return Status::Ok();  // the delete follows anyway
    return s;
  }

  Status ForceDelete(const json::object& pod) {
    client::DeleteParams p;
    p.grace_period_seconds = 0;
    p.precondition_uid = api::Uid(pod);
    auto r = client_->Delete(*pods_r_, api::Namespace(pod), api::Name(pod), p);
    if (r.ok() || r.NotFound() || r.error().http_code() == 409) return Status::Ok();
    return r.error().Annotate("deleting pod " + client::Key(pod));
  }

  const client::Client* client_;
  const api::ResourceInfo* pods_r_;
  const api::ResourceInfo* nodes_r_;
  const int64_t threshold_;
  const std::chrono::milliseconds quarantine_;
  client::Informer* pods_ = nullptr;
  client::Informer* nodes_ = nullptr;
  Resync resync_;
  std::mutex mu_;  // guards missing_since_
  std::map<std::string, std::chrono::steady_clock::time_point> missing_since_;
};

}  // namespace

std::unique_ptr<client::Controller> NewPodGCController(const client::Client* client, int64_t terminated_threshold,
                                                       std::chrono::milliseconds quarantine, const kite::Clock* clock) {
  return std::make_unique<PodGCController>(client, terminated_threshold, quarantine, clock);
}

}  // namespace kite::controllers
