// systemd's readiness protocol without libsystemd: a unit of Type=notify is "started" when its
// process sends "READY=1" as one datagram to the unix socket named by $NOTIFY_SOCKET (a path, or
// "@name" for the abstract namespace). kite-server sends it once its API is serving; kite-agent
// once its node is registered. Without $NOTIFY_SOCKET (not under systemd) this does nothing.
#pragma once

#include <string>

#include "base/status.h"

namespace kite {

// Reads $NOTIFY_SOCKET and removes it from the environment, so that children (containerd, the
// shims) neither inherit it nor notify in our name. Call first thing in main, before any thread
// starts (unsetenv is not thread-safe). "" when unset (not under systemd).
std::string TakeNotifySocket();

// Sends `state` (e.g. "READY=1") as one datagram to `socket_path`; Ok and nothing sent when the
// path is "".
Status SdNotify(const std::string& socket_path, const std::string& state);

}  // namespace kite
