#include "agent/hollow/hollow_runtime.h"
#include "base/clock.h"

#include <arpa/inet.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace kite::hollow {

namespace {

bool ParseIpv4(const std::string& text, uint32_t* out) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) return false;
  *out = ntohl(a.s_addr);
  return true;
}

std::string FormatIpv4(uint32_t v) {
  in_addr a{};
  a.s_addr = htonl(v);
  char buf[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &a, buf, sizeof buf) ? buf : "";
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(kite::Clock::Real()->Now().time_since_epoch())
      .count();
}

Status NotFound(const char* what, const std::string& id) {
  return Status(Code::kNotFound, std::string(what) + " " + id + " not found");
}

bool Matches(const cri::Labels& have, const cri::Labels& selector) {
  for (const auto& [k, v] : selector) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

HollowRuntime::HollowRuntime(const std::string& pod_cidr, Lifetime lifetime) : lifetime_(std::move(lifetime)) {
  SetCidrLocked(pod_cidr);
}

std::string HollowRuntime::ImageRef(const std::string& image) {
  if (image.find("@sha256:") != std::string::npos) return image;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(image.data(), image.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    hex += buf;
  }
  return image + "@sha256:" + hex;
}

Result<cri::VersionInfo> HollowRuntime::Version() {
  return cri::VersionInfo{"0.1.0", "hollow", "1.0", "v1"};
}

void HollowRuntime::SetCidrLocked(const std::string& cidr) {
  cidr_ = cidr;
  cidr_base_ = 0;
  cidr_hosts_ = 0;
  auto slash = cidr.find('/');
  uint32_t addr = 0;
  if (slash == std::string::npos || !ParseIpv4(cidr.substr(0, slash), &addr)) return;
  int len = std::atoi(cidr.c_str() + slash + 1);
  if (len < 8 || len > 30) return;  // too wide to be a node's range, or no room for pods
  const uint32_t mask = ~uint32_t{0} << (32 - len);
  cidr_base_ = addr & mask;
  cidr_hosts_ = std::min<uint32_t>((~mask) - 1, 65534);
}

Status HollowRuntime::UpdateRuntimeConfig(const std::string& pod_cidr) {
  std::lock_guard<std::mutex> lock(mu_);
  if (pod_cidr.empty() || pod_cidr == cidr_) return Status::Ok();
  // Another range: what was handed out from the old one is forgotten.
  SetCidrLocked(pod_cidr);
  used_.clear();
  for (auto& [id, sb] : sandboxes_) sb.ip_offset = 0;
  return Status::Ok();
}

std::string HollowRuntime::IpLocked(uint32_t offset) const {
  return offset == 0 ? std::string() : FormatIpv4(cidr_base_ + offset);
}

Result<std::string> HollowRuntime::RunPodSandbox(const cri::PodSandboxConfig& config) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string& id = config.metadata.uid;
  if (sandboxes_.count(id)) return Status(Code::kAlreadyExists, "sandbox " + id + " exists");
  uint32_t offset = 0;
  if (!config.host_network) {
    for (uint32_t off = 2; off <= cidr_hosts_; ++off) {
      if (!used_.count(off)) {
        offset = off;
        break;
      }
    }
    if (offset == 0) return Status(Code::kResourceExhausted, "no free IP in the pod CIDR " + cidr_);
    used_.insert(offset);
  }
  Sandbox& sb = sandboxes_[id];
  sb.metadata = config.metadata;
  sb.created_at = NowNanos();
  sb.ip_offset = offset;
  sb.labels = config.labels;
  return id;
}

void HollowRuntime::UpdateLocked(Container& c) {
  if (c.state == cri::ContainerState::kRunning && c.exit_at && Steady::now() >= *c.exit_at) {
    c.state = cri::ContainerState::kExited;
    c.finished_at = c.started_at + c.lifetime_ns;  // when it exited, whenever someone looks
    c.reason = "Completed";
  }
}

void HollowRuntime::StopLocked(Container& c) {
  UpdateLocked(c);
  if (c.state == cri::ContainerState::kExited) return;
  // A stopped container of a real runtime dies of SIGTERM/SIGKILL; the fake's exit quietly.
  c.state = cri::ContainerState::kExited;
  c.finished_at = NowNanos();
  c.reason = "Completed";
}

Status HollowRuntime::StopPodSandbox(const std::string& pod_sandbox_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sandboxes_.find(pod_sandbox_id);
  if (it == sandboxes_.end()) return Status::Ok();
  ++sandbox_stops_;
  Sandbox& sb = it->second;
  for (const std::string& cid : sb.containers) {
    if (auto c = containers_.find(cid); c != containers_.end()) StopLocked(c->second);
  }
  sb.state = cri::PodSandboxState::kNotReady;
  if (sb.ip_offset != 0) used_.erase(sb.ip_offset);
  sb.ip_offset = 0;
  return Status::Ok();
}

int64_t HollowRuntime::sandbox_stops() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sandbox_stops_;
}

Status HollowRuntime::RemovePodSandbox(const std::string& pod_sandbox_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sandboxes_.find(pod_sandbox_id);
  if (it == sandboxes_.end()) return Status::Ok();
  for (const std::string& cid : it->second.containers) containers_.erase(cid);
  if (it->second.ip_offset != 0) used_.erase(it->second.ip_offset);
  sandboxes_.erase(it);
  return Status::Ok();
}

Result<cri::PodSandboxStatus> HollowRuntime::PodSandboxStatus(const std::string& pod_sandbox_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sandboxes_.find(pod_sandbox_id);
  if (it == sandboxes_.end()) return NotFound("sandbox", pod_sandbox_id);
  const Sandbox& sb = it->second;
  cri::PodSandboxStatus st;
  st.id = pod_sandbox_id;
  st.metadata = sb.metadata;
  st.state = sb.state;
  st.created_at = sb.created_at;
  st.ip = IpLocked(sb.ip_offset);
  st.labels = sb.labels;
  return st;
}

Result<std::vector<cri::PodSandbox>> HollowRuntime::ListPodSandbox(const cri::PodSandboxFilter& filter) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<cri::PodSandbox> out;
  for (const auto& [id, sb] : sandboxes_) {
    if ((!filter.id.empty() && filter.id != id) || (filter.state && *filter.state != sb.state) ||
        !Matches(sb.labels, filter.label_selector)) {
      continue;
    }
    out.push_back(cri::PodSandbox{id, sb.metadata, sb.state, sb.created_at, sb.labels, {}});
  }
  return out;
}

Result<std::string> HollowRuntime::CreateContainer(const std::string& pod_sandbox_id, const cri::ContainerConfig& config,
                                                   const cri::PodSandboxConfig&) {
  std::lock_guard<std::mutex> lock(mu_);
  auto sb = sandboxes_.find(pod_sandbox_id);
  if (sb == sandboxes_.end()) return NotFound("sandbox", pod_sandbox_id);
  if (sb->second.state != cri::PodSandboxState::kReady) {
    return Status(Code::kFailedPrecondition, "sandbox " + pod_sandbox_id + " is not ready");
  }
  std::string id = sb->second.metadata.uid + "-" + config.metadata.name;
  if (config.metadata.attempt > 0) id += "-" + std::to_string(config.metadata.attempt);
  if (containers_.count(id)) return Status(Code::kAlreadyExists, "container " + id + " exists");
  Container& c = containers_[id];
  c.sandbox_id = pod_sandbox_id;
  c.metadata = config.metadata;
  c.image = config.image.image;
  c.image_ref = ImageRef(config.image.image);
  c.created_at = NowNanos();
  c.labels = config.labels;
  c.log_path = config.log_path;
  sb->second.containers.push_back(id);
  return id;
}

Status HollowRuntime::StartContainer(const std::string& container_id) {
  std::optional<std::chrono::milliseconds> life;
  cri::PodSandboxMetadata pod;
  std::string name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = containers_.find(container_id);
    if (it == containers_.end()) return NotFound("container", container_id);
    if (it->second.state != cri::ContainerState::kCreated) {
      return Status(Code::kFailedPrecondition, "container " + container_id + " is not in state Created");
    }
    pod = sandboxes_[it->second.sandbox_id].metadata;
    name = it->second.metadata.name;
    if (auto e = start_errors_.find(name); e != start_errors_.end()) {
      Container& c = it->second;
      c.state = cri::ContainerState::kExited;
      c.exit_code = 128;
      c.reason = "StartError";
      c.finished_at = NowNanos();
      return e->second;
    }
  }
  if (lifetime_) life = lifetime_(pod, name);  // outside the lock: it may look at other state
  std::lock_guard<std::mutex> lock(mu_);
  auto it = containers_.find(container_id);
  if (it == containers_.end()) return NotFound("container", container_id);
  Container& c = it->second;
  c.state = cri::ContainerState::kRunning;
  c.started_at = NowNanos();
  if (life) {
    c.exit_at = Steady::now() + *life;
    c.lifetime_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(*life).count();
  }
  UpdateLocked(c);
  return Status::Ok();
}

Status HollowRuntime::StopContainer(const std::string& container_id, int64_t) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = containers_.find(container_id);
  if (it != containers_.end()) StopLocked(it->second);
  return Status::Ok();
}

Status HollowRuntime::RemoveContainer(const std::string& container_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = containers_.find(container_id);
  if (it == containers_.end()) return Status::Ok();
  if (auto sb = sandboxes_.find(it->second.sandbox_id); sb != sandboxes_.end()) {
    std::erase(sb->second.containers, container_id);
  }
  containers_.erase(it);
  return Status::Ok();
}

cri::ContainerStatus HollowRuntime::StatusLocked(const std::string& id, const Container& c) const {
  cri::ContainerStatus st;
  st.id = id;
  st.metadata = c.metadata;
  st.state = c.state;
  st.created_at = c.created_at;
  st.started_at = c.started_at;
  st.finished_at = c.finished_at;
  st.exit_code = c.exit_code;
  st.image.image = c.image;
  st.image_ref = c.image_ref;
  if (c.state == cri::ContainerState::kExited) st.reason = c.reason;
  st.labels = c.labels;
  st.log_path = c.log_path;
  return st;
}

Result<std::vector<cri::Container>> HollowRuntime::ListContainers(const cri::ContainerFilter& filter) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<cri::Container> out;
  for (auto& [id, c] : containers_) {
    UpdateLocked(c);
    if ((!filter.id.empty() && filter.id != id) ||
        (!filter.pod_sandbox_id.empty() && filter.pod_sandbox_id != c.sandbox_id) ||
        (filter.state && *filter.state != c.state) || !Matches(c.labels, filter.label_selector)) {
      continue;
    }
    out.push_back(cri::Container{id, c.sandbox_id, c.metadata, cri::ImageSpec{c.image}, c.image_ref, c.state,
                                 c.created_at, c.labels, {}});
  }
  return out;
}

Result<cri::ContainerStatus> HollowRuntime::ContainerStatus(const std::string& container_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = containers_.find(container_id);
  if (it == containers_.end()) return NotFound("container", container_id);
  UpdateLocked(it->second);
  return StatusLocked(container_id, it->second);
}

Result<cri::ExecSyncResponse> HollowRuntime::ExecSync(const std::string& container_id, const std::vector<std::string>&,
                                                      int64_t) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = containers_.find(container_id);
  if (it == containers_.end()) return NotFound("container", container_id);
  UpdateLocked(it->second);
  if (it->second.state != cri::ContainerState::kRunning) {
    return Status(Code::kFailedPrecondition, "container " + container_id + " is not running");
  }
  auto r = exec_results_.find(it->second.metadata.name);
  return r == exec_results_.end() ? cri::ExecSyncResponse{} : r->second;
}

Status HollowRuntime::ExitContainer(const std::string& container_id, int32_t exit_code, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = containers_.find(container_id);
  if (it == containers_.end()) return NotFound("container", container_id);
  Container& c = it->second;
  UpdateLocked(c);
  if (c.state != cri::ContainerState::kRunning) {
    return Status(Code::kFailedPrecondition, "container " + container_id + " is not running");
  }
  c.state = cri::ContainerState::kExited;
  c.finished_at = NowNanos();
  c.exit_code = exit_code;
  c.reason = !reason.empty() ? reason : exit_code == 0 ? "Completed" : "Error";
  return Status::Ok();
}

void HollowRuntime::SetStartError(const std::string& container, Status error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (error.ok()) start_errors_.erase(container);
  else start_errors_[container] = std::move(error);
}

void HollowRuntime::SetPullError(const std::string& image, Status error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (error.ok()) pull_errors_.erase(image);
  else pull_errors_[image] = std::move(error);
}

void HollowRuntime::SetExecResult(const std::string& container, int32_t exit_code, const std::string& output) {
  std::lock_guard<std::mutex> lock(mu_);
  exec_results_[container] = cri::ExecSyncResponse{output, "", exit_code};
}

Result<std::vector<cri::RuntimeCondition>> HollowRuntime::RuntimeStatus() {
  return std::vector<cri::RuntimeCondition>{{"RuntimeReady", true, "", ""}, {"NetworkReady", true, "", ""}};
}

Result<std::string> HollowRuntime::PullImage(const cri::ImageSpec& image, const std::optional<cri::AuthConfig>&,
                                             const cri::PodSandboxConfig&) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = pull_errors_.find(image.image); e != pull_errors_.end()) return e->second;
  cri::Image& img = images_[image.image];
  img.id = ImageRef(image.image);
  if (image.image.find("@sha256:") != std::string::npos) img.repo_digests = {image.image};
  else img.repo_tags = {image.image};
  return img.id;
}

Result<std::optional<cri::Image>> HollowRuntime::ImageStatus(const cri::ImageSpec& image) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = images_.find(image.image);
  if (it == images_.end()) return std::optional<cri::Image>();
  return std::optional<cri::Image>(it->second);
}

Result<std::vector<cri::Image>> HollowRuntime::ListImages() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<cri::Image> out;
  for (const auto& [name, img] : images_) out.push_back(img);
  return out;
}

Status HollowRuntime::RemoveImage(const cri::ImageSpec& image) {
  std::lock_guard<std::mutex> lock(mu_);
  images_.erase(image.image);
  return Status::Ok();
}

}  // namespace kite::hollow
