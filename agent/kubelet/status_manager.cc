#include "agent/kubelet/status_manager.h"

#include <boost/json.hpp>

#include "api/object.h"

namespace kite::kubelet {
namespace json = boost::json;

namespace {

const api::ResourceInfo& PodsResource() { return *api::FindResource("", "v1", "pods"); }

}  // namespace

kite::Result<json::object> StatusManager::SetPodStatus(const json::object& pod, json::object status) const {
  json::object patch;
  patch["status"] = std::move(status);
  return client_->Patch(PodsResource(), api::Namespace(pod), api::Name(pod),
                        client::PatchType::kMerge, json::serialize(patch), "status");
}

kite::Result<json::object> StatusManager::FinishDeletion(const json::object& pod) const {
  client::DeleteParams p;
  p.grace_period_seconds = 0;
  p.precondition_uid = api::Uid(pod);  // never the pod re-created under its name
  auto res = client_->Delete(PodsResource(), api::Namespace(pod), api::Name(pod), p);
  // Gone, or a different pod by now (the precondition failed): either way ours is finished.
  if (res.NotFound() || (!res.ok() && res.error().http_code() == 409)) return json::object();
  return res;
}

}  // namespace kite::kubelet
