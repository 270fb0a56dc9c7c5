// AtomicWriter: the files of a configMap/secret/downwardAPI/projected volume, replaced all at
// once, as upstream's AtomicWriter lays them out so a container never sees half an update:
//
//   <dir>/..2026_12_05_12_00_00.123456789/   the current payload (a timestamped directory)
//   <dir>/..data -> ..2026_12_05_...         swapped by rename(2) of a new symlink: atomic
//   <dir>/<key>  -> ..data/<key>             one symlink per top-level path of the payload
//
// Write() with the payload already there (contents, modes, group) changes nothing. Otherwise it writes a new timestamped
// directory, swaps ..data, adds the missing per-key symlinks, removes those of paths no longer
// in the payload and removes the old directory. Readers that open <dir>/<key> see the old or the
// new file, never a mix. A crash between steps leaves the old payload visible.
//
// Contract: payload paths are relative, without "." or ".." elements and not starting with "..";
// a bad path is kInvalidArgument before anything is written. `dir` must exist.
// Not thread-safe for one dir: the volume manager serialises the writers of a pod.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "base/status.h"

namespace kite::kubelet::volumes {

struct FileProjection {
  std::string data;
  uint32_t mode = 0644;
  friend bool operator==(const FileProjection&, const FileProjection&) = default;
};
using Payload = std::map<std::string, FileProjection>;  // relative path → contents

class AtomicWriter {
 public:
  // `gid`: the pod's fsGroup: every file and directory written is group-owned by it and the
  // directories get the setgid bit (the caller adds the group bits to the modes).
  explicit AtomicWriter(std::string dir, std::optional<uint32_t> gid = std::nullopt) : dir_(std::move(dir)), gid_(gid) {}
  // true: the files changed; false: they were already the payload.
  Result<bool> Write(const Payload& payload);

 private:
  std::string dir_;
  std::optional<uint32_t> gid_;
};

// Checks one payload path as Write() does.
Status ValidatePayloadPath(const std::string& path);

}  // namespace kite::kubelet::volumes
