// kite-cni: our own CNI plugins for the pods' network on a node, one small program that
// containerd runs as `bridge`, `loopback` and `portmap` (the agent's CNI bin dir links those
// names to it: cni_bin_dir.h). Why: each of the three is a Go program of its own in
// containernetworking-plugins, and a pod's sandbox ran four of them (bridge delegating to
// host-local, portmap, loopback) — 12 % of the CPU of a 30-pod burst on 2 cores, most of it
// process start-up. This program does the same work in one short C++ process each.
//
// Contract (the CNI spec 1.0.0, also 0.3.0-0.4.0):
// - The command comes from CNI_COMMAND (ADD, DEL, CHECK, VERSION), the network configuration on
//   standard input, the result or the error as JSON on standard output; exit 0 on success, 1
//   with {"cniVersion","code","msg","details"} on error.
// - bridge: the configurations kite writes (cni_config.h: a bridge, isGateway, hairpinMode,
//   mtu, IPAM host-local with one IPv4 range, routes and a dataDir; ipMasq false) are done here,
//   with host-local's on-disk allocations (host_local.h), so the two can take turns on one node.
//   Anything else (ipMasq, IPv6, other IPAM, vlan, CHECK) is handed to the system's plugin of the
//   same name: this program replaces itself by `<its dir>/system/<name>` with the same
//   environment and input, so the answer is that plugin's.
// - loopback: sets `lo` up (ADD) or down (DEL) in the namespace; CHECK is handed on.
// - portmap: without port mappings in runtimeConfig it passes the previous result on (ADD) and
//   has nothing to do (DEL, CHECK), as the real one; with mappings it is handed on.
// - DEL succeeds when the namespace or the interface is already gone (the spec: DEL tolerates
//   missing resources).
#pragma once

#include <boost/json.hpp>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kite::cni {

// One run of a plugin: the environment the runtime set and the configuration it sent.
struct Invocation {
  std::string plugin;        // the name it was run as: "bridge", "loopback", "portmap"
  std::string self;          // argv[0], the path the runtime ran
  std::string command;       // CNI_COMMAND
  std::string container_id;  // CNI_CONTAINERID
  std::string netns;         // CNI_NETNS (a path)
  std::string ifname;        // CNI_IFNAME
  std::string input;         // the configuration, as read
  boost::json::object config;
};

// The spec's error codes this program answers with.
inline constexpr int kErrIncompatibleVersion = 1;
inline constexpr int kErrInvalidEnvironment = 4;
inline constexpr int kErrDecoding = 6;
inline constexpr int kErrInvalidConfig = 7;
inline constexpr int kErrInternal = 999;

// A failure with its CNI code.
struct Failure {
  Failure(int c, std::string m, std::string d = "") : code(c), msg(std::move(m)), details(std::move(d)) {}
  int code;
  std::string msg, details;
};
using Outcome = std::expected<std::string, Failure>;  // the result's JSON text, or why not

// The versions of the spec this program speaks.
bool SupportedVersion(const std::string& version);
std::string VersionJson();
std::string ErrorJson(const std::string& version, const Failure& f);

// Writes all of `data` to `fd` (short writes and EINTR retried); `what` names it in the error.
Status WriteAll(int fd, std::string_view data, const std::string& what);

// Replaces this process by the system's plugin of the same name (`<dir of self>/system/<plugin>`)
// with the same arguments, environment and input. Returns only when that failed, with why.
Failure HandOn(const Invocation& inv, char** argv);

// The plugins (bridge.cc, loopback.cc, portmap.cc). nullopt: not ours to do, hand it on.
std::optional<Outcome> Bridge(const Invocation& inv);
std::optional<Outcome> Loopback(const Invocation& inv);
std::optional<Outcome> Portmap(const Invocation& inv);

// Enters the network namespace at `path` (this process is single-threaded: the whole process
// moves). NotFound when the path is gone.
Status EnterNetns(const std::string& path);

}  // namespace kite::cni
