// ContainerLogManager: rotation of the containers' log files by size and count, as upstream's
// kubelet does it (--container-log-max-size, default 10Mi; --container-log-max-files, default
// 5), so a chatty pod cannot fill the disk (an SD card on a small node).
//
// Every `period` (10 s upstream), for each running container whose log file has reached
// max_size: the oldest rotated files are removed so that, with the current one, at most
// max_files remain; the log is renamed to <log>.<YYYYMMDD-hhmmss> (UTC) and the runtime is asked
// to reopen its log (CRI ReopenContainerLog), which creates a new file at the path. When the
// reopen fails the rename is undone, as upstream does. Upstream also gzips all but the newest
// rotated file; kite keeps them plain (readers such as `kubectl logs` only read the current one).
// Runs on the controller runner as a single key; ticks are independent (no state kept).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "agent/cri/runtime.h"
#include "client/controller.h"

namespace kite::kubelet::logs {

struct ContainerLogOptions {
  int64_t max_size = 10 * 1024 * 1024;  // bytes; a log is rotated at this size
  int64_t max_files = 5;                // >= 2: the current file and the rotated ones
  std::chrono::milliseconds period{10'000};
};

// Parses the flags' values ("10Mi", "5"). InvalidArgument for a bad quantity, a size below 1 or
// fewer than 2 files (upstream's limits).
Result<ContainerLogOptions> ParseContainerLogOptions(const std::string& max_size, int64_t max_files);

// The rotated files of `log` (<log>.<suffix>), oldest first.
std::vector<std::string> RotatedLogs(const std::string& log);

// Rotates `log` if it has reached max_size; `reopen` asks the runtime to reopen it. Returns
// whether it rotated. `now_utc` names the rotated file.
Result<bool> RotateLog(const std::string& log, const ContainerLogOptions& o,
                       const std::function<Status()>& reopen, std::chrono::system_clock::time_point now_utc);

class ContainerLogManager final : public client::Controller {
 public:
  ContainerLogManager(cri::RuntimeService* runtime, ContainerLogOptions opts);
  void Init(client::InformerFactory& informers) override;
  Status Reconcile(const std::string& key) override;

  // One pass over the running containers; the number of logs rotated.
  Result<int> RotateAll();

 private:
  cri::RuntimeService* runtime_;
  const ContainerLogOptions opts_;
};

}  // namespace kite::kubelet::logs
