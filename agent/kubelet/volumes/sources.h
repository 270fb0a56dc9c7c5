// The contents of the API-backed volumes (configMap, secret, downwardAPI and projected sources)
// as AtomicWriter payloads, and upstream's hostPath type check: the volume manager's pieces that
// read the spec and the API, apart from the ones that lay out directories and mounts.
// Errors carry upstream's texts (`configmap "x" not found`, "configmap references non-existent
// config key: k", "hostPath type check failed: /p is not a directory").
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "agent/kubelet/container_config.h"
#include "agent/kubelet/lookup.h"
#include "agent/kubelet/volumes/atomic_writer.h"
#include "base/status.h"

namespace kite::kubelet::volumes {

// o[key] as a file mode (0..0777), `fallback` when unset; anything else is kInvalidArgument.
Result<uint32_t> PayloadMode(const boost::json::object& o, const char* key, uint32_t fallback);
// spec.securityContext.fsGroup, when set to a usable gid.
std::optional<uint32_t> PodFSGroup(const boost::json::object& pod);
// Adds one file; a bad or duplicate path is kInvalidArgument.
Status AddPayloadFile(Payload& payload, const std::string& path, std::string data, uint32_t mode);
// A configMap or secret source (of a volume or of a projected volume): every key, or `items`;
// missing object or key NotFound unless `optional`.
Status AddKeyedSource(Payload& payload, Lookup& lookup, const std::string& ns, const boost::json::object& source,
                      bool secret, uint32_t default_mode);
// downwardAPI items (of a volume or of a projected volume): metadata fieldRefs and
// resourceFieldRefs (containerName required).
Status AddDownwardSource(Payload& payload, const boost::json::object& pod, const boost::json::array& items,
                         uint32_t default_mode, const NodeConfig& node);
// upstream's hostPath type check; `type` "" checks nothing. DirectoryOrCreate and FileOrCreate
// create what is missing (0755 directories, 0644 files).
Status CheckHostPathType(const std::string& path, const std::string& type);

}  // namespace kite::kubelet::volumes
