#include "server/controllers/job/ttl_after_finished_controller.h"

#include <boost/json.hpp>

#include "base/log.h"
#include "server/controllers/common/controller_utils.h"

namespace kite::controllers {
namespace {

// When the Job finished, if it did.
std::optional<api::Timestamp> FinishTime(const json::object& job) {
  const auto& status = Obj(job, "status");
  for (const auto& c : Arr(status, "conditions")) {
    if (!c.is_object() || Str(c.as_object(), "status") != "True") continue;
    const std::string type = Str(c.as_object(), "type");
    if (type == "Complete") {
      if (auto t = api::ParseTime(Str(status, "completionTime"))) return t;
      return api::ParseTime(Str(c.as_object(), "lastTransitionTime"));
    }
    if (type == "Failed") return api::ParseTime(Str(c.as_object(), "lastTransitionTime"));
  }
  return std::nullopt;
}

class TtlAfterFinishedController final : public client::Controller {
 public:
  explicit TtlAfterFinishedController(const client::Client* c)
      : Controller("ttl-after-finished", 2), client_(c), job_r_(api::FindResource("batch", "v1", "jobs")) {}

  void Init(client::InformerFactory& f) override {
    jobs_ = f.For(*job_r_);
    auto maybe = [this](const ObjectPtr& j) {
      if (Obj(*j, "spec").contains("ttlSecondsAfterFinished") && !Obj(*j, "metadata").contains("deletionTimestamp") &&
          FinishTime(*j)) {
        queue_.Add(KeyOf(*j));
      }
    };
    jobs_->AddHandler(client::EventHandler{maybe, [maybe](const ObjectPtr&, const ObjectPtr& j) { maybe(j); }, nullptr});
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = SplitKey(key);
    ObjectPtr job = jobs_->Get(ns, name);
    if (!job || Obj(*job, "metadata").contains("deletionTimestamp")) return Status::Ok();
    const auto& spec = Obj(*job, "spec");
    if (!spec.contains("ttlSecondsAfterFinished")) return Status::Ok();
    auto finished = FinishTime(*job);
    if (!finished) return Status::Ok();
    const auto expire = *finished + std::chrono::seconds(Int(spec, "ttlSecondsAfterFinished"));
    const auto now = std::chrono::system_clock::now();
    if (now < expire) {
      queue_.AddAfter(key, expire - now + std::chrono::milliseconds(100));
      return Status::Ok();
    }
    client::DeleteParams p;
    p.propagation_policy = "Foreground";
    p.precondition_uid = Str(Obj(*job, "metadata"), "uid");
    auto r = client_->Delete(*job_r_, ns, name, p);
    if (!r.ok() && !r.NotFound() && r.error().http_code() != 409) {
      return Status(Code::kUnavailable, "deleting job: " + r.error().message());
    }
    if (r.ok()) KITE_LOG(2) << "ttl-after-finished: deleted job " << key;
    return Status::Ok();
  }

 private:
  const client::Client* client_;
  const api::ResourceInfo* job_r_;
  client::Informer* jobs_ = nullptr;
};

}  // namespace

std::unique_ptr<client::Controller> NewTtlAfterFinishedController(const client::Client* client) {
  return std::make_unique<TtlAfterFinishedController>(client);
}

}  // namespace kite::controllers
