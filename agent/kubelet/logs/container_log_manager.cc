#include "agent/kubelet/logs/container_log_manager.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "api/quantity.h"
#include "base/civil_time.h"
#include "base/clock.h"
#include "base/log.h"

namespace kite::kubelet::logs {
namespace fs = std::filesystem;

Result<ContainerLogOptions> ParseContainerLogOptions(const std::string& max_size, int64_t max_files) {
  ContainerLogOptions o;
  auto q = api::Quantity::Parse(max_size);
  if (!q.ok()) return Status(Code::kInvalidArgument, "--container-log-max-size: invalid quantity \"" + max_size + "\"");
  o.max_size = q->Value();
  if (o.max_size < 1) return Status(Code::kInvalidArgument, "--container-log-max-size must be positive");
  if (max_files < 2) return Status(Code::kInvalidArgument, "--container-log-max-files must be 2 or more");
  o.max_files = max_files;
  return o;
}

std::vector<std::string> RotatedLogs(const std::string& log) {
  std::vector<std::string> out;
  const fs::path p(log);
  const std::string prefix = p.filename().string() + ".";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(p.parent_path(), ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
        name.find(".tmp") == std::string::npos) {
      out.push_back(e.path().string());
    }
  }
  // The suffix is a UTC time YYYYMMDD-hhmmss: names sort by age.
  std::sort(out.begin(), out.end());
  return out;
}

Result<bool> RotateLog(const std::string& log, const ContainerLogOptions& o, const std::function<Status()>& reopen,
                       std::chrono::system_clock::time_point now_utc) {
  struct stat st {};
  if (::stat(log.c_str(), &st) != 0) return false;  // no log yet (or the container is gone)
  if (static_cast<int64_t>(st.st_size) < o.max_size) return false;
  // Make room: with the file about to be rotated and the new current one, max_files remain.
  auto rotated = RotatedLogs(log);
  const size_t keep = static_cast<size_t>(o.max_files - 2);
  std::error_code ec;
  while (rotated.size() > keep) {
    fs::remove(rotated.front(), ec);
    rotated.erase(rotated.begin());
  }
  const std::string suffix = FormatUtc(now_utc, "%Y%m%d-%H%M%S");  // 64-bit: right past 2038 on armhf
  std::string target = log + "." + suffix;
  // Two rotations within a second (a tiny max size): do not overwrite the first.
  for (int i = 1; fs::exists(target, ec); ++i) target = log + "." + suffix + "-" + std::to_string(i);
  fs::rename(log, target, ec);
  if (ec) return Status(Code::kUnavailable, "rotate " + log + ": " + ec.message());
  if (Status s = reopen(); !s.ok()) {
    fs::rename(target, log, ec);  // the runtime still writes to the renamed file: put it back
    return s;
  }
  return true;
}

ContainerLogManager::ContainerLogManager(cri::RuntimeService* runtime, ContainerLogOptions opts)
    : client::Controller("container-log-manager"), runtime_(runtime), opts_(opts) {}

void ContainerLogManager::Init(client::InformerFactory&) { queue_.AddAfter("rotate", opts_.period); }

Status ContainerLogManager::Reconcile(const std::string&) {
  queue_.AddAfter("rotate", opts_.period);
  auto n = RotateAll();
  if (!n.ok()) KITE_LOG(2) << "container logs: " << n.status().message();
  return Status::Ok();
}

Result<int> ContainerLogManager::RotateAll() {
  cri::ContainerFilter running;
  running.state = cri::ContainerState::kRunning;
  auto list = runtime_->ListContainers(running);
  if (!list.ok()) return list.status();
  int rotated = 0;
  for (const auto& c : *list) {
    auto st = runtime_->ContainerStatus(c.id);
    if (!st.ok() || st->log_path.empty()) continue;
    const std::string id = c.id;
    auto r = RotateLog(st->log_path, opts_, [&] { return runtime_->ReopenContainerLog(id); },
                       Clock::Real()->Now());
    if (!r.ok()) {
      KITE_LOG(1) << "container logs: " << c.metadata.name << " (" << id << "): " << r.status().message();
      continue;
    }
    if (*r) ++rotated;
  }
  return rotated;
}

}  // namespace kite::kubelet::logs
