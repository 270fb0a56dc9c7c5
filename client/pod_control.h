// PodControl (upstream's RealPodControl): a controller's pod creations and deletions, each
// success or failed creation recorded as an Event on the owner (SuccessfulCreate,
// FailedCreate, SuccessfulDelete), which is what `kubectl describe <owner>` tells.
//
// Contract: one call, one request; the client's answer is returned as it is (callers branch on
// NotFound, AlreadyExists, ...). Thread-safety: as the Client and the EventRecorder (any
// thread).
#pragma once

#include <boost/json/object.hpp>

#include <string>

#include "client/client.h"
#include "client/event_recorder.h"

namespace kite::client {

class PodControl {
 public:
  // Both must outlive the PodControl.
  PodControl(const Client* client, EventRecorder* recorder);

  // Creates `pod` in the owner's namespace: the pod as created, or the client's error.
  Result<boost::json::object> CreatePod(const boost::json::object& owner, const boost::json::object& pod) const;
  // Deletes `pod` (an owned pod, in the owner's namespace).
  Result<boost::json::object> DeletePod(const boost::json::object& owner, const boost::json::object& pod) const;

 private:
  const Client* client_;
  EventRecorder* recorder_;
  const api::ResourceInfo& pods_;
};

}  // namespace kite::client
