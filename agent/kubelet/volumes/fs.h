// File-system steps of the volume manager, for paths it owns under the kubelet's root dir.
// Errors are Statuses carrying errno's text; none of these follows a symlink it removes.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/status.h"

namespace kite::kubelet::volumes {

// Removes `path` and everything below it without following symlinks (a symlink is removed, not
// what it points to) and without crossing into another file system: a mount still below `path`
// makes it fail (kFailedPrecondition) instead of deleting the mount's contents. Absent: OK.
Status RemoveTree(const std::string& path);
// mkdir -p with `mode` for the directories it creates.
Status MakeDirs(const std::string& path, mode_t mode);
// mkdir -p of `rel` (relative, no "..") below the directory `base`, refusing to pass through a
// symlink (a volume's contents are the container's: a link there could point anywhere on the
// host). kFailedPrecondition when a component is a symlink or not a directory.
Status MakeDirsBeneath(const std::string& base, const std::string& rel, mode_t mode);
// Writes a file through a temporary in the same directory and rename(2), then sets `mode`.
Status WriteFileAtomically(const std::string& path, const std::string& data, mode_t mode);
// `path` is the root of a mount (its device differs from its parent's).
bool IsMountPoint(const std::string& path);
// The mount points at or below `prefix` (from /proc/self/mountinfo), deepest first.
std::vector<std::string> MountPointsUnder(const std::string& prefix);
// mount -t tmpfs [-o size=<bytes>] tmpfs <path>; size_bytes 0: tmpfs's default.
Status MountTmpfs(const std::string& path, int64_t size_bytes);
// umount, lazily when busy; not mounted: OK.
Status Unmount(const std::string& path);

}  // namespace kite::kubelet::volumes
