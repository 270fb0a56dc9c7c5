#include "server/controllers/job/ttl_after_finished_controller.h"

#include <boost/json.hpp>

#include "api/object.h"
#include "api/time.h"
#include "base/log.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/informer.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace {

// When the Job finished, if it did.
std::optional<api::Timestamp> FinishTime(const json::object& job) {
  const auto& status = api::GetObject(job, "status");
  for (const auto& c : api::GetArray(status, "conditions")) {
    if (!c.is_object() || api::GetString(c.as_object(), "status") != "True") continue;
    const std::string type = api::GetString(c.as_object(), "type");
    if (type == "Complete") {
      if (auto t = api::ParseTime(api::GetString(status, "completionTime"))) return t;
      return api::ParseTime(api::GetString(c.as_object(), "lastTransitionTime"));
    }
    if (type == "Failed") return api::ParseTime(api::GetString(c.as_object(), "lastTransitionTime"));
  }
  return std::nullopt;
}

class TtlAfterFinishedController final : public client::Controller {
 public:
  explicit TtlAfterFinishedController(const client::Client* c, const kite::Clock* clock)
      : Controller("ttl-after-finished", 2, clock), client_(c), job_r_(api::FindResource("batch", "v1", "jobs")) {}

  void Init(client::InformerFactory& f) override {
    jobs_ = f.For(*job_r_);
    auto maybe = [this](const ObjectPtr& j) {
      if (api::GetObject(*j, "spec").contains("ttlSecondsAfterFinished") && !api::IsBeingDeleted(*j) &&
          FinishTime(*j)) {
        queue_.Add(client::Key(*j));
      }
    };
    jobs_->AddHandler(client::EventHandler{maybe, [maybe](const ObjectPtr&, const ObjectPtr& j) { maybe(j); }, nullptr});
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = client::SplitKey(key);
    ObjectPtr job = jobs_->Get(ns, name);
    if (!job || api::IsBeingDeleted(*job)) return Status::Ok();
    const auto& spec = api::GetObject(*job, "spec");
    if (!spec.contains("ttlSecondsAfterFinished")) return Status::Ok();
    auto finished = FinishTime(*job);
    if (!finished) return Status::Ok();
    const auto expire = *finished + std::chrono::seconds(api::GetInt(spec, "ttlSecondsAfterFinished"));
    const auto now = clock()->Now();
    if (now < expire) {
      queue_.AddAfter(key, expire - now + std::chrono::milliseconds(100));
      return Status::Ok();
    }
    client::DeleteParams p;
    p.propagation_policy = "Foreground";
    p.precondition_uid = api::Uid(*job);
    auto r = client_->Delete(*job_r_, ns, name, p);
    if (!r.ok() && !r.NotFound() && r.error().http_code() != 409) {
      return r.error().Annotate("deleting job");
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

std::unique_ptr<client::Controller> NewTtlAfterFinishedController(const client::Client* client,
                                                                  const kite::Clock* clock) {
  return std::make_unique<TtlAfterFinishedController>(client, clock);
}

}  // namespace kite::controllers
