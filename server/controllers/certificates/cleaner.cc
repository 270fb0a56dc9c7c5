#include <boost/json.hpp>

#include <algorithm>

#include "api/conditions.h"
#include "api/object.h"
#include "api/time.h"
#include "base/encoding.h"
#include "base/log.h"
#include "client/informer.h"
#include "server/controllers/certificates/certificates.h"

namespace kite::controllers {
namespace json = boost::json;
using std::chrono::hours;

namespace {

// Upstream's periods (pkg/controller/certificates/cleaner).
constexpr auto kApprovedExpiration = hours(1);
constexpr auto kDeniedExpiration = hours(1);  // also Failed
constexpr auto kPendingExpiration = hours(24);

using TimePoint = std::chrono::system_clock::time_point;

// A condition's lastUpdateTime (upstream ignores a zero/missing one).
std::optional<TimePoint> UpdatedAt(const json::object* cond) {
  if (!cond) return std::nullopt;
  return api::ParseTime(api::GetString(*cond, "lastUpdateTime"));
}

void Earliest(std::optional<TimePoint>& out, std::optional<TimePoint> t) {
  if (t && (!out || *t < *out)) out = t;
}

class CsrCleanerController final : public client::Controller {
 public:
  CsrCleanerController(const client::Client* c, const kite::Clock* clock)
      : Controller("csrcleaner", 1, clock), client_(c),
        csrs_r_(api::FindResource("certificates.k8s.io", "v1", "certificatesigningrequests")) {}

  void Init(client::InformerFactory& f) override {
    csrs_ = f.For(*csrs_r_);
    csrs_->AddHandler(client::EnqueueSelf(&queue_));
  }

  Status Reconcile(const std::string& key) override {
    client::ObjectPtr csr = csrs_->Get("", key);
    if (!csr) return Status::Ok();
    const auto deadline = CsrCleanupDeadline(*csr);
    if (!deadline) return Status::Ok();  // a change enqueues it again
    const TimePoint now = clock()->Now();
    if (now <= *deadline) {
      // Whole seconds past the deadline, as its times have no fraction.
      queue_.AddAfter(key, std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - now) + std::chrono::seconds(1));
      return Status::Ok();
    }
    client::DeleteParams p;
    p.precondition_uid = api::GetString(api::Metadata(*csr), "uid");
    auto r = client_->Delete(*csrs_r_, "", key, p);
    if (!r.ok() && !r.NotFound()) return r.error().Annotate("deleting CSR " + key);
    KITE_LOG(1) << "csrcleaner: deleted CSR " << key;
    return Status::Ok();
  }

 private:
  const client::Client* client_;
  const api::ResourceInfo* csrs_r_;
  client::Informer* csrs_ = nullptr;
};

}  // namespace

std::optional<TimePoint> CsrCleanupDeadline(const json::object& csr) {
  const json::object& status = api::GetObject(csr, "status");
  const json::array& conditions = api::GetArray(status, "conditions");
  std::optional<TimePoint> deadline;
  if (conditions.empty()) {
    if (auto created = api::ParseTime(api::GetString(api::Metadata(csr), "creationTimestamp"))) {
      Earliest(deadline, *created + kPendingExpiration);
    }
    return deadline;
  }
  for (const char* type : {"Denied", "Failed"}) {
    if (auto t = UpdatedAt(api::FindCondition(conditions, type))) Earliest(deadline, *t + kDeniedExpiration);
  }
  const std::string cert = api::GetString(status, "certificate");
  if (api::FindCondition(conditions, "Approved") && !cert.empty()) {
    if (auto t = UpdatedAt(api::FindCondition(conditions, "Approved"))) Earliest(deadline, *t + kApprovedExpiration);
    // An unreadable certificate only has the deadline above (upstream's rule).
    if (auto pem = Base64Decode(cert)) {
      // (Inspect adds the whole seconds left to now; notAfter itself is whole seconds.)
      if (auto info = pki::Inspect(*pem); info.ok()) Earliest(deadline, std::chrono::floor<std::chrono::seconds>(info->not_after));
    }
  }
  return deadline;
}

std::unique_ptr<client::Controller> NewCsrCleanerController(const client::Client* client, const kite::Clock* clock) {
  return std::make_unique<CsrCleanerController>(client, clock);
}

}  // namespace kite::controllers
