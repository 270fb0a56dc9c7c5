// What the agent's containerd is configured with (ContainerdSupervisor, containerd.h, writes it):
// its paths, its config.toml, the OCI runtimes it offers as CRI runtime handlers, and why it
// cannot run on a host. Pure functions except where said (they look at the host).
//
// Paths for data dir D (the state dir is under /run, a tmpfs, as containerd expects, and unique
// per data dir so several agents on one machine never share one):
//   D/agent/etc/containerd/config.toml    generated; rewritten only when it changes
//   D/agent/containerd/                   root (images, snapshots, metadata)
//   D/agent/containerd/containerd.log     containerd's output
//   /run/kite/<id>/containerd/            state; containerd.sock is the CRI endpoint;
//                                         netns/ holds the pods' network namespaces;
//                                         <handler>/k8s.io/<container id>/ is the OCI runtime's
//                                         state of a container (runc/ or crun/: which ran it)
// where <id> is the first 12 hex digits of the SHA-256 of D's absolute path.
//
// Runtime handlers (what a RuntimeClass's `handler` names), as k3s configures them: `runc`
// always (the runc shim's default binary, found on PATH); `crun` when a crun executable is in
// /usr/sbin, /usr/bin, /usr/local/bin or /usr/local/sbin (k3s's places, in its order), as a
// runc-shim runtime (`io.containerd.runc.v2`) with BinaryName set to that path. The default
// handler (containerd's `default_runtime_name`, what a pod without runtimeClassName gets) is
// --default-runtime's, else `runc` (k3s's). Not crun by default: crun 1.8.1 refuses every
// container on hosts with hybrid cgroups whose v2 hierarchy has a controller ("cgroups in hybrid
// mode not supported, drop all controllers from cgroupv2"), as these build machines have.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/status.h"

namespace kite::cri {

struct ContainerdOptions {
  std::string data_dir;                    // the agent's --data-dir (made absolute)
  std::string sandbox_image;               // the pause image (--pause-image)
  std::string containerd_binary = "containerd";  // a name looked up on PATH, or a path
  std::string cni_bin_dir = "/usr/lib/cni";
  std::string cni_conf_dir;                // default: D/agent/etc/cni/net.d
  int stream_server_port = 0;              // on 127.0.0.1; 0: any free port
  std::string snapshotter;                 // "": overlayfs when it mounts here, else native
  // --default-runtime: the handler pods without a runtimeClassName get; "": runc (see above). A handler this host does not have is refused at Start.
  std::string default_runtime;
  // Where the alternative runtimes are looked for: "/" (a test seam: a fake root).
  std::string runtime_search_root = "/";
  // TOML appended to config.toml as is: the registry configuration (mirrors, auth, TLS) that
  // agent/cri/registries.h produces from registries.yaml.
  std::string registry_toml;
  std::chrono::milliseconds stop_grace{std::chrono::seconds(10)};
  // Restart back-off: doubles from min to max; reset after containerd ran `backoff_reset` long.
  std::chrono::milliseconds backoff_min{std::chrono::milliseconds(500)};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(30)};
  std::chrono::milliseconds backoff_reset{std::chrono::minutes(2)};
};

// The paths the supervisor uses for a data dir (see above); pure.
struct ContainerdPaths {
  std::string config_file, root, state, socket, log_file, cni_conf_dir;
  static ContainerdPaths For(const std::string& data_dir);
};

// A CRI runtime handler: containerd's runtimes.<name>, run by the runc shim with `binary`
// ("": the shim's default, runc on PATH).
struct RuntimeHandler {
  std::string name;
  std::string binary;
  bool operator==(const RuntimeHandler&) const = default;
};

// The handlers this host offers: runc first, then each alternative runtime found under `root`
// (see above). Looks at the host's files.
std::vector<RuntimeHandler> FindRuntimeHandlers(const std::string& root = "/");

// The default handler: `requested` (--default-runtime) when it is among `handlers`, else an
// InvalidArgument saying which exist and, for crun, where it was looked for; "" requested: runc.
Result<std::string> ChooseDefaultRuntime(const std::string& requested, const std::vector<RuntimeHandler>& handlers);

// What the supervisor finds out about the host before it writes the config.
struct ContainerdHostFacts {
  std::string snapshotter = "overlayfs";  // overlayfs when it mounts here, else native
  // Without CAP_SYS_RESOURCE (some sandboxes and VMs drop it) no process may lower its
  // oom_score_adj, and runc fails to start the pause container (-998): containerd's
  // restrict_oom_score_adj then raises such values to its own.
  bool restrict_oom_score_adj = false;
  std::vector<RuntimeHandler> runtimes = {{"runc", ""}};  // FindRuntimeHandlers
  std::string default_runtime = "runc";                    // ChooseDefaultRuntime
};

// config.toml's text for these options, paths and host facts; pure.
std::string ContainerdConfigToml(const ContainerdOptions& options, const ContainerdPaths& paths,
                                 const ContainerdHostFacts& facts);

// Why containerd cannot run on this host, in one sentence; "" when it can (root, containerd and
// runc found, a cgroup filesystem mounted).
std::string ContainerdPreflight(const std::string& containerd_binary);

// `name` as execve needs it: as given when it has a slash (if executable), else the first
// executable of that name on PATH; "" when there is none.
std::string FindExecutable(const std::string& name);

}  // namespace kite::cri
