// StreamingService: CRI's streaming calls (Exec, Attach, PortForward). Each prepares a session on
// the runtime's stream server and answers with its URL (containerd: http://127.0.0.1:<port>/
// exec/<token>, served once); the kubelet server relays the client's upgrade request there
// (agent/kubelet/server/streaming_routes.cc). Separate from RuntimeService: only a real runtime
// has a stream server (kite-hollow's fake runtime does not implement this).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace kite::cri {

struct ExecRequest {
  std::string container_id;
  std::vector<std::string> cmd;
  bool tty = false, stdin_ = false, stdout_ = false, stderr_ = false;
};

struct AttachRequest {
  std::string container_id;
  bool tty = false, stdin_ = false, stdout_ = false, stderr_ = false;
};

class StreamingService {
 public:
  virtual ~StreamingService() = default;
  virtual Result<std::string> Exec(const ExecRequest& req) = 0;
  virtual Result<std::string> Attach(const AttachRequest& req) = 0;
  virtual Result<std::string> PortForward(const std::string& pod_sandbox_id, const std::vector<int32_t>& ports) = 0;
};

}  // namespace kite::cri
