#include "agent/kubelet/pod_config.h"

#include <filesystem>

#include "agent/kubelet/minimal_config.h"
#include "agent/kubelet/pull_secrets.h"
#include "api/object.h"
#include "base/log.h"

namespace kite::kubelet {
namespace {

namespace json = boost::json;

class Minimal final : public PodConfig {
 public:
  Result<cri::PodSandboxConfig> Sandbox(const json::object& pod, uint32_t attempt) override {
    return MakeSandboxConfig(pod, attempt);
  }
  Status SetUpVolumes(const json::object&) override { return Status::Ok(); }
  Result<cri::ContainerConfig> Container(const json::object& pod, const json::object& container, uint32_t attempt,
                                         const std::string&) override {
    return MakeContainerConfig(pod, container, attempt);
  }
  Result<std::vector<cri::AuthConfig>> PullAuth(const json::object&, const std::string&) override {
    return std::vector<cri::AuthConfig>{};
  }
  void TearDown(const std::string&) override {}
};

class OnNode final : public PodConfig {
 public:
  OnNode(NodeConfig node, Lookup* lookup, volumes::VolumeManager* volumes)
      : node_(std::move(node)), lookup_(lookup), volumes_(volumes) {}

  Result<cri::PodSandboxConfig> Sandbox(const json::object& pod, uint32_t attempt) override {
    // Events about the DNS config (MissingClusterDNS…) are upstream's warnings; logged here.
    std::vector<PodEvent> events;
    auto c = BuildSandboxConfig(pod, node_, &events, attempt);
    for (const auto& e : events) KITE_LOG(1) << "pod " << api::Namespace(pod) << "/" << api::Name(pod) << ": " << e.reason << ": " << e.message;
    return c;
  }

  Result<std::string> RuntimeHandler(const json::object& pod) override {
    const std::string rc = api::GetString(api::GetObject(pod, "spec"), "runtimeClassName");
    if (rc.empty()) return std::string();
    auto cls = lookup_->GetRuntimeClass(rc);
    if (!cls.ok()) return cls.error();
    return api::GetString(*cls, "handler");
  }

  Status SetUpVolumes(const json::object& pod) override { return volumes_->SetUp(pod); }

  Result<cri::ContainerConfig> Container(const json::object& pod, const json::object& container, uint32_t attempt,
                                         const std::string& pod_ip) override {
    ContainerContext ctx;
    ctx.attempt = attempt;
    if (!pod_ip.empty()) ctx.pod_ips = {pod_ip};
    std::vector<PodEvent> events;
    auto env = ContainerEnv(pod, container, ctx, node_, *lookup_, &events);
    if (!env.ok()) return env.error();
    ctx.env = *env;
    auto mounts = volumes_->MountsFor(pod, container, ctx.pod_ips, &*ctx.env);
    if (!mounts.ok()) return mounts.error();
    ctx.mounts = std::move(*mounts);
    auto log = volumes_->TerminationLogFile(pod, api::GetString(container, "name"), attempt);
    if (!log.ok()) return log.error();
    ctx.termination_log_path = *log;
    return BuildContainerConfig(pod, container, ctx, node_, *lookup_, &events);
  }

  Result<std::vector<cri::AuthConfig>> PullAuth(const json::object& pod, const std::string& image) override {
    auto ref = ParseImageReference(image);
    if (!ref.ok()) return ref.error();
    auto creds = PullCredentialsFor(pod, *ref, [this](const std::string& ns, const std::string& name) {
      return lookup_->GetSecret(ns, name);
    });
    if (!creds.ok()) return creds.error();
    for (const auto& m : creds->missing) {
      KITE_LOG(0) << "pod " << api::Namespace(pod) << "/" << api::Name(pod)
                  << ": unable to retrieve some image pull secrets (" << m << "); attempting to pull the image may not succeed";
    }
    return std::move(creds->auths);
  }

  // The pod is gone: its volumes, then its log directory (<pod logs root>/<ns>_<name>_<uid>, as
  // upstream's container GC removes the log directories of deleted pods).
  void TearDown(const std::string& uid) override {
    if (auto s = volumes_->TearDown(uid); !s.ok()) KITE_LOG(0) << "pod " << uid << ": tearing down volumes: " << s.message();
    if (uid.empty() || node_.pod_logs_root.empty()) return;
    std::error_code ec;
    const std::string suffix = "_" + uid;
    for (std::filesystem::directory_iterator it(node_.pod_logs_root, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
      std::error_code rm;
      std::filesystem::remove_all(it->path(), rm);
      if (rm) KITE_LOG(0) << "pod " << uid << ": removing " << it->path().string() << ": " << rm.message();
    }
  }

 private:
  const NodeConfig node_;
  Lookup* const lookup_;
  volumes::VolumeManager* const volumes_;
};

}  // namespace

std::unique_ptr<PodConfig> MinimalPodConfig() { return std::make_unique<Minimal>(); }

std::unique_ptr<PodConfig> NodePodConfig(NodeConfig node, Lookup* lookup, volumes::VolumeManager* volumes) {
  return std::make_unique<OnNode>(std::move(node), lookup, volumes);
}

}  // namespace kite::kubelet
