#include "client/pod_control.h"

#include "api/object.h"

namespace kite::client {
namespace json = boost::json;

PodControl::PodControl(const Client* client, EventRecorder* recorder)
    : client_(client), recorder_(recorder), pods_(*api::FindResource("", "v1", "pods")) {}

Result<json::object> PodControl::CreatePod(const json::object& owner, const json::object& pod) const {
  auto r = client_->Create(pods_, api::Namespace(owner), pod);
  if (r.ok()) recorder_->Normal(owner, "SuccessfulCreate", "Created pod: " + api::Name(*r));
  else recorder_->Warning(owner, "FailedCreate", "Error creating: " + r.error().message());
  return r;
}

Result<json::object> PodControl::DeletePod(const json::object& owner, const json::object& pod) const {
  const std::string name = api::Name(pod);
  auto r = client_->Delete(pods_, api::Namespace(owner), name);
  if (r.ok()) recorder_->Normal(owner, "SuccessfulDelete", "Deleted pod: " + name);
  return r;
}

}  // namespace kite::client
