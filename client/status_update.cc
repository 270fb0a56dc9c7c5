#include "client/status_update.h"

#include "api/object.h"

namespace kite::client {
namespace json = boost::json;

Status UpdateStatusIfChanged(const Client& client, const api::ResourceInfo& r, const json::object& obj,
                             json::object status, std::optional<json::object>* written) {
  if (written) written->reset();
  if (status == api::GetObject(obj, "status")) return Status::Ok();
  json::object next = obj;
  next["status"] = std::move(status);
  auto res = client.UpdateStatus(r, api::Namespace(obj), next);
  if (res.ok()) {
    if (written) *written = std::move(res.value());
    return Status::Ok();
  }
  if (res.NotFound()) return Status::Ok();
  return res.error().Annotate("updating " + r.resource + "/status");
}

}  // namespace kite::client
