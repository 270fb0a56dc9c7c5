#include "agent/cri/cri_client_wire.h"

namespace kite::cri::wire {
namespace v1 = runtime::v1;

namespace {

template <typename Map>
void PutLabels(const Labels& in, Map* out) {
  for (const auto& [k, v] : in) (*out)[k] = v;
}

template <typename Map>
Labels GetLabels(const Map& in) {
  return Labels(in.begin(), in.end());
}

void ToProto(const PodSandboxMetadata& in, v1::PodSandboxMetadata* out) {
  out->set_name(in.name);
  out->set_uid(in.uid);
  out->set_namespace_(in.namespace_);
  out->set_attempt(in.attempt);
}

PodSandboxMetadata FromProto(const v1::PodSandboxMetadata& in) {
  return {.name = in.name(), .uid = in.uid(), .namespace_ = in.namespace_(), .attempt = in.attempt()};
}

ContainerMetadata FromProto(const v1::ContainerMetadata& in) { return {.name = in.name(), .attempt = in.attempt()}; }

// The pod's namespaces as CRI states them for the sandbox and again for each container: the host's
// (NODE) where the pod asks for it, else the pod's own network and IPC, and a PID namespace per
// container (upstream's default without shareProcessNamespace).
void ToProto(const PodSandboxConfig& pod, v1::NamespaceOption* out) {
  out->set_network(pod.host_network ? v1::NODE : v1::POD);
  out->set_pid(pod.host_pid ? v1::NODE : pod.share_pid ? v1::POD : v1::CONTAINER);
  out->set_ipc(pod.host_ipc ? v1::NODE : v1::POD);
}

v1::Protocol ToProto(Protocol p) {
  switch (p) {
    case Protocol::kUDP: return v1::UDP;
    case Protocol::kSCTP: return v1::SCTP;
    case Protocol::kTCP: break;
  }
  return v1::TCP;
}

v1::PodSandboxState ToProto(PodSandboxState s) {
  return s == PodSandboxState::kReady ? v1::SANDBOX_READY : v1::SANDBOX_NOTREADY;
}

PodSandboxState FromProto(v1::PodSandboxState s) {
  return s == v1::SANDBOX_READY ? PodSandboxState::kReady : PodSandboxState::kNotReady;
}

v1::ContainerState ToProto(ContainerState s) {
  switch (s) {
    case ContainerState::kCreated: return v1::CONTAINER_CREATED;
    case ContainerState::kRunning: return v1::CONTAINER_RUNNING;
    case ContainerState::kExited: return v1::CONTAINER_EXITED;
    case ContainerState::kUnknown: break;
  }
  return v1::CONTAINER_UNKNOWN;
}

ContainerState FromProto(v1::ContainerState s) {
  switch (s) {
    case v1::CONTAINER_CREATED: return ContainerState::kCreated;
    case v1::CONTAINER_RUNNING: return ContainerState::kRunning;
    case v1::CONTAINER_EXITED: return ContainerState::kExited;
    default: return ContainerState::kUnknown;
  }
}

void ToProto(const LinuxResources& in, v1::LinuxContainerResources* out) {
  out->set_cpu_period(in.cpu_period);
  out->set_cpu_quota(in.cpu_quota);
  out->set_cpu_shares(in.cpu_shares);
  out->set_memory_limit_in_bytes(in.memory_limit_in_bytes);
  out->set_oom_score_adj(in.oom_score_adj);
}

void ToProto(const SecurityProfile& in, v1::SecurityProfile* out) {
  out->set_profile_type(static_cast<v1::SecurityProfile::ProfileType>(in.type));
  out->set_localhost_ref(in.localhost_ref);
}

void ToProto(const SecurityContext& in, const PodSandboxConfig& pod, v1::LinuxContainerSecurityContext* out) {
  out->set_privileged(in.privileged);
  if (in.run_as_user) out->mutable_run_as_user()->set_value(*in.run_as_user);
  if (in.run_as_group) out->mutable_run_as_group()->set_value(*in.run_as_group);
  out->set_run_as_username(in.run_as_username);
  out->set_readonly_rootfs(in.readonly_rootfs);
  out->set_no_new_privs(in.no_new_privs);
  for (const auto& c : in.add_capabilities) out->mutable_capabilities()->add_add_capabilities(c);
  for (const auto& c : in.drop_capabilities) out->mutable_capabilities()->add_drop_capabilities(c);
  for (int64_t g : in.supplemental_groups) out->add_supplemental_groups(g);
  for (const auto& p : in.masked_paths) out->add_masked_paths(p);
  for (const auto& p : in.readonly_paths) out->add_readonly_paths(p);
  ToProto(in.seccomp, out->mutable_seccomp());
  if (in.apparmor) ToProto(*in.apparmor, out->mutable_apparmor());
  ToProto(pod, out->mutable_namespace_options());
  if (!in.pid_target.empty() && out->namespace_options().pid() == v1::CONTAINER) {
    out->mutable_namespace_options()->set_pid(v1::TARGET);
    out->mutable_namespace_options()->set_target_id(in.pid_target);
  }
}

ImageSpec FromProto(const v1::ImageSpec& in) { return {.image = in.image()}; }

}  // namespace

void ToProto(const PodSandboxConfig& in, v1::PodSandboxConfig* out) {
  ToProto(in.metadata, out->mutable_metadata());
  // A pod on the host's network has the host's UTS namespace too: a runtime refuses to set its
  // hostname (upstream's kubelet leaves it empty there as well).
  if (!in.host_network) out->set_hostname(in.hostname);
  out->set_log_directory(in.log_directory);
  if (in.dns_config) {
    auto* dns = out->mutable_dns_config();
    for (const auto& s : in.dns_config->servers) dns->add_servers(s);
    for (const auto& s : in.dns_config->searches) dns->add_searches(s);
    for (const auto& s : in.dns_config->options) dns->add_options(s);
  }
  for (const auto& pm : in.port_mappings) {
    auto* p = out->add_port_mappings();
    p->set_protocol(ToProto(pm.protocol));
    p->set_container_port(pm.container_port);
    p->set_host_port(pm.host_port);
    p->set_host_ip(pm.host_ip);
  }
  PutLabels(in.labels, out->mutable_labels());
  PutLabels(in.annotations, out->mutable_annotations());
  auto* lx = out->mutable_linux();
  lx->set_cgroup_parent(in.cgroup_parent);
  for (const auto& [name, value] : in.sysctls) (*lx->mutable_sysctls())[name] = value;
  auto* sc = lx->mutable_security_context();
  sc->set_privileged(in.privileged);
  if (in.run_as_user) sc->mutable_run_as_user()->set_value(*in.run_as_user);
  if (in.run_as_group) sc->mutable_run_as_group()->set_value(*in.run_as_group);
  for (int64_t g : in.supplemental_groups) sc->add_supplemental_groups(g);
  ToProto(in.seccomp, sc->mutable_seccomp());
  ToProto(in, sc->mutable_namespace_options());
}

void ToProto(const ContainerConfig& in, const PodSandboxConfig& sandbox, v1::ContainerConfig* out) {
  out->mutable_metadata()->set_name(in.metadata.name);
  out->mutable_metadata()->set_attempt(in.metadata.attempt);
  out->mutable_image()->set_image(in.image.image);
  for (const auto& s : in.command) out->add_command(s);
  for (const auto& s : in.args) out->add_args(s);
  out->set_working_dir(in.working_dir);
  for (const auto& [k, v] : in.envs) {
    auto* kv = out->add_envs();
    kv->set_key(k);
    kv->set_value(v);
  }
  for (const auto& m : in.mounts) {
    auto* pm = out->add_mounts();
    pm->set_container_path(m.container_path);
    pm->set_host_path(m.host_path);
    pm->set_readonly(m.readonly);
    pm->set_selinux_relabel(m.selinux_relabel);
    pm->set_propagation(static_cast<v1::MountPropagation>(m.propagation));  // same values (runtime.h)
  }
  PutLabels(in.labels, out->mutable_labels());
  PutLabels(in.annotations, out->mutable_annotations());
  out->set_log_path(in.log_path);
  out->set_stdin(in.stdin);
  out->set_stdin_once(in.stdin_once);
  out->set_tty(in.tty);
  ToProto(in.resources, out->mutable_linux()->mutable_resources());
  ToProto(in.security_context, sandbox, out->mutable_linux()->mutable_security_context());
}

void ToProto(const PodSandboxFilter& in, v1::PodSandboxFilter* out) {
  out->set_id(in.id);
  if (in.state) out->mutable_state()->set_state(ToProto(*in.state));
  PutLabels(in.label_selector, out->mutable_label_selector());
}

void ToProto(const ContainerFilter& in, v1::ContainerFilter* out) {
  out->set_id(in.id);
  out->set_pod_sandbox_id(in.pod_sandbox_id);
  if (in.state) out->mutable_state()->set_state(ToProto(*in.state));
  PutLabels(in.label_selector, out->mutable_label_selector());
}

void ToProto(const AuthConfig& in, v1::AuthConfig* out) {
  out->set_username(in.username);
  out->set_password(in.password);
  out->set_auth(in.auth);
  out->set_server_address(in.server_address);
  out->set_identity_token(in.identity_token);
  out->set_registry_token(in.registry_token);
}

VersionInfo FromProto(const v1::VersionResponse& in) {
  return {.version = in.version(),
          .runtime_name = in.runtime_name(),
          .runtime_version = in.runtime_version(),
          .runtime_api_version = in.runtime_api_version()};
}

PodSandbox FromProto(const v1::PodSandbox& in) {
  return {.id = in.id(),
          .metadata = FromProto(in.metadata()),
          .state = FromProto(in.state()),
          .created_at = in.created_at(),
          .labels = GetLabels(in.labels()),
          .annotations = GetLabels(in.annotations())};
}

PodSandboxStatus FromProto(const v1::PodSandboxStatus& in) {
  return {.id = in.id(),
          .metadata = FromProto(in.metadata()),
          .state = FromProto(in.state()),
          .created_at = in.created_at(),
          .ip = in.network().ip(),
          .labels = GetLabels(in.labels()),
          .annotations = GetLabels(in.annotations())};
}

Container FromProto(const v1::Container& in) {
  return {.id = in.id(),
          .pod_sandbox_id = in.pod_sandbox_id(),
          .metadata = FromProto(in.metadata()),
          .image = FromProto(in.image()),
          .image_ref = in.image_ref(),
          .state = FromProto(in.state()),
          .created_at = in.created_at(),
          .labels = GetLabels(in.labels()),
          .annotations = GetLabels(in.annotations())};
}

ContainerStatus FromProto(const v1::ContainerStatus& in) {
  return {.id = in.id(),
          .metadata = FromProto(in.metadata()),
          .state = FromProto(in.state()),
          .created_at = in.created_at(),
          .started_at = in.started_at(),
          .finished_at = in.finished_at(),
          .exit_code = in.exit_code(),
          .image = FromProto(in.image()),
          .image_ref = in.image_ref(),
          .reason = in.reason(),
          .message = in.message(),
          .labels = GetLabels(in.labels()),
          .annotations = GetLabels(in.annotations()),
          .log_path = in.log_path()};
}

RuntimeCondition FromProto(const v1::RuntimeCondition& in) {
  return {.type = in.type(), .status = in.status(), .reason = in.reason(), .message = in.message()};
}

Image FromProto(const v1::Image& in) {
  Image out{.id = in.id(),
            .repo_tags = {in.repo_tags().begin(), in.repo_tags().end()},
            .repo_digests = {in.repo_digests().begin(), in.repo_digests().end()},
            .size = in.size(),
            .uid = std::nullopt,
            .username = in.username()};
  if (in.has_uid()) out.uid = in.uid().value();
  return out;
}

}  // namespace kite::cri::wire
