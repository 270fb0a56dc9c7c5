#include "client/controller_ref_manager.h"

#include <boost/json/serialize.hpp>

#include "api/object.h"
#include "api/owner_references.h"

namespace kite::client {
namespace json = boost::json;

ControllerRefManager::ControllerRefManager(const Client* client, const api::ResourceInfo& dependents,
                                           const json::object& owner, api::LabelSelector selector,
                                           std::vector<std::string> release_finalizers)
    : client_(client),
      dependents_(dependents),
      owner_(owner),
      selector_(std::move(selector)),
      release_finalizers_(std::move(release_finalizers)),
      owner_uid_(api::Uid(owner)),
      owner_deleting_(api::IsBeingDeleted(owner)) {}

std::vector<ObjectPtr> ControllerRefManager::Claim(const std::vector<ObjectPtr>& candidates, Status* error) {
  std::vector<ObjectPtr> claimed;
  auto note = [error](Status s) {
    if (!s.ok() && error && error->ok()) *error = std::move(s);
  };
  for (const auto& obj : candidates) {
    const bool matches = selector_.Matches(api::Labels(*obj));
    if (const json::object* ref = api::ControllerOf(*obj)) {
      if (api::GetString(*ref, "uid") != owner_uid_) continue;
      if (matches) claimed.push_back(obj);
      else note(Release(*obj));
      continue;
    }
    if (!matches || owner_deleting_ || api::IsBeingDeleted(*obj)) continue;
    Status s;
    if (ObjectPtr adopted = Adopt(*obj, &s)) claimed.push_back(std::move(adopted));
    note(std::move(s));
  }
  return claimed;
}

ObjectPtr ControllerRefManager::Adopt(const json::object& orphan, Status* error) {
  json::object patch{{"metadata", json::object{{"ownerReferences", json::array{api::ControllerRef(owner_)}},
                                               {"uid", api::Uid(orphan)}}}};
  auto r = client_->Patch(dependents_, api::Namespace(orphan), api::Name(orphan), PatchType::kStrategic,
                          json::serialize(patch));
  if (r.ok()) return std::make_shared<const json::object>(std::move(r.value()));
  if (!r.NotFound() && error) {
    *error = r.error().Annotate("adopting " + api::Name(orphan));
  }
  return nullptr;
}

Status ControllerRefManager::Release(const json::object& dependent) {
  json::object meta{{"ownerReferences", json::array{json::object{{"$patch", "delete"}, {"uid", owner_uid_}}}},
                    {"uid", api::Uid(dependent)}};
  if (!release_finalizers_.empty()) {
    json::array fins;
    for (const auto& f : release_finalizers_) fins.emplace_back(f);
    meta["$deleteFromPrimitiveList/finalizers"] = std::move(fins);
  }
  json::object patch{{"metadata", std::move(meta)}};
  auto r = client_->Patch(dependents_, api::Namespace(dependent), api::Name(dependent), PatchType::kStrategic,
                          json::serialize(patch));
  if (!r.ok() && !r.NotFound()) {
    return r.error().Annotate("releasing " + api::Name(dependent));
  }
  return Status::Ok();
}

std::optional<std::string> ResolveControllerRef(const json::object& dependent, std::string_view kind,
                                                const Informer& owners) {
  const json::object* ref = api::ControllerOf(dependent);
  if (!ref || api::GetString(*ref, "kind") != kind) return std::nullopt;
  const std::string ns = api::Namespace(dependent), name = api::GetString(*ref, "name");
  ObjectPtr owner = owners.Get(ns, name);
  if (!owner || api::Uid(*owner) != api::GetString(*ref, "uid")) return std::nullopt;
  return ns + "/" + name;
}

EventHandler DependentHandler(DependentEvents ev) {
  auto events = std::make_shared<const DependentEvents>(std::move(ev));
  // The dependent is going: an observed deletion for its owner.
  auto gone = [events](const json::object& obj) {
    if (auto owner = events->owner_key(obj)) {
      if (events->expectations) events->expectations->DeletionObserved(*owner);
      events->queue->Add(*owner);
    }
  };
  auto on_add = [events, gone](const ObjectPtr& obj) {
    // A dependent seen first while being deleted (a relist after a restart) was never counted
    // as created; its deletion is what the owner may be waiting for.
    if (api::IsBeingDeleted(*obj)) return gone(*obj);
    if (auto owner = events->owner_key(*obj)) {
      if (events->expectations) events->expectations->CreationObserved(*owner);
      events->queue->Add(*owner);
    } else if (events->enqueue_adopters) {
      events->enqueue_adopters(*obj);
    }
  };
  auto on_update = [events, gone](const ObjectPtr& old_obj, const ObjectPtr& obj) {
    if (api::ResourceVersion(*old_obj) == api::ResourceVersion(*obj)) return;
    if (api::IsBeingDeleted(*obj) && !api::IsBeingDeleted(*old_obj)) return gone(*obj);
    auto old_owner = events->owner_key(*old_obj), owner = events->owner_key(*obj);
    if (old_owner && old_owner != owner) events->queue->Add(*old_owner);
    if (owner) events->queue->Add(*owner);
    else if (events->enqueue_adopters) events->enqueue_adopters(*obj);
  };
  auto on_delete = [events, gone](const ObjectPtr& obj) {
    // Already counted when its deletionTimestamp appeared; only wake the owner then.
    if (!api::IsBeingDeleted(*obj)) return gone(*obj);
    if (auto owner = events->owner_key(*obj)) events->queue->Add(*owner);
  };
  return EventHandler{on_add, on_update, on_delete};
}

}  // namespace kite::client
