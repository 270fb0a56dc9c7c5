#include "agent/kubelet/volumes/sources.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>

#include "agent/kubelet/volumes/fs.h"
#include "api/object.h"
#include "base/encoding.h"

namespace kite::kubelet::volumes {
namespace json = boost::json;

namespace {

// The string data of a configMap (data and binaryData) or a secret (data, base64).
Result<std::map<std::string, std::string>> DataOf(const json::object& obj, bool secret, const std::string& name) {
  std::map<std::string, std::string> out;
  auto decode_into = [&](const char* field) -> Status {
    for (const auto& kv : api::GetObject(obj, field)) {
      if (!kv.value().is_string()) continue;
      auto d = Base64Decode(kv.value().as_string());
      if (!d) return Status(Code::kInvalidArgument, "key " + std::string(kv.key()) + " of " + name + " is not valid base64");
      out[kv.key()] = std::move(*d);
    }
    return {};
  };
  if (secret) {
    if (Status s = decode_into("data"); !s.ok()) return s;
    return out;
  }
  for (const auto& kv : api::GetObject(obj, "data")) {
    if (kv.value().is_string()) out[kv.key()] = kv.value().as_string();
  }
  if (Status s = decode_into("binaryData"); !s.ok()) return s;
  return out;
}

}  // namespace

Result<uint32_t> PayloadMode(const json::object& o, const char* key, uint32_t fallback) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return fallback;
  const int64_t m = api::AsInt(*v, -1);
  if (!v->is_number() || m < 0 || m > 0777) {
    return Status(Code::kInvalidArgument, std::string(key) + " must be a number between 0 and 0777 (octal)");
  }
  return static_cast<uint32_t>(m);
}

// spec.securityContext.fsGroup, when set to a usable gid.
std::optional<uint32_t> PodFSGroup(const json::object& pod) {
  const json::value* v = api::Find(pod, {"spec", "securityContext", "fsGroup"});
  if (!v || !v->is_number()) return std::nullopt;
  const int64_t gid = api::AsInt(*v, -1);
  if (gid < 0 || gid > 2147483647) return std::nullopt;
  return static_cast<uint32_t>(gid);
}

Status AddPayloadFile(Payload& payload, const std::string& path, std::string data, uint32_t mode) {
  if (Status s = ValidatePayloadPath(path); !s.ok()) return s;
  if (payload.contains(path)) return Status(Code::kInvalidArgument, "conflicting duplicate paths: " + path);
  payload[path] = FileProjection{std::move(data), mode};
  return {};
}

// A configMap or secret source (of a volume or of a projected volume) into `payload`.
Status AddKeyedSource(Payload& payload, Lookup& lookup, const std::string& ns, const json::object& source, bool secret,
                uint32_t default_mode) {
  const std::string name = api::GetString(source, secret && source.contains("secretName") ? "secretName" : "name");
  const bool optional = api::GetBool(source, "optional");
  auto obj = secret ? lookup.GetSecret(ns, name) : lookup.GetConfigMap(ns, name);
  if (!obj) {
    if (obj.NotFound()) {
      if (optional) return {};
      return Status(Code::kNotFound, std::string(secret ? "secret" : "configmap") + " \"" + name + "\" not found");
    }
    return obj.error();
  }
  auto data = DataOf(*obj, secret, ns + "/" + name);
  if (!data) return data.error();
  const json::array* items = api::FindArray(source, "items");
  if (!items || items->empty()) {
    for (auto& [k, v] : *data) {
      if (Status s = AddPayloadFile(payload, k, v, default_mode); !s.ok()) return s;
    }
    return {};
  }
  for (const auto& iv : *items) {
    if (!iv.is_object()) continue;
    const std::string key = api::GetString(iv.as_object(), "key");
    auto it = data->find(key);
    if (it == data->end()) {
      if (optional) continue;
      return Status(Code::kNotFound, secret ? "references non-existent secret key: " + key
                                            : "configmap references non-existent config key: " + key);
    }
    auto mode = PayloadMode(iv.as_object(), "mode", default_mode);
    if (!mode) return mode.error();
    if (Status s = AddPayloadFile(payload, api::GetString(iv.as_object(), "path"), it->second, *mode); !s.ok()) return s;
  }
  return {};
}

// downwardAPI items (of a volume or of a projected volume) into `payload`.
Status AddDownwardSource(Payload& payload, const json::object& pod, const json::array& items, uint32_t default_mode,
                   const NodeConfig& node) {
  ContainerContext ctx;  // status.* is not offered to volumes: fieldRef paths are metadata only
  for (const auto& iv : items) {
    if (!iv.is_object()) continue;
    const json::object& item = iv.as_object();
    auto mode = PayloadMode(item, "mode", default_mode);
    if (!mode) return mode.error();
    Result<std::string> value = std::string();
    if (const json::object* fr = api::FindObject(item, "fieldRef")) {
      const std::string path = api::GetString(*fr, "fieldPath");
      if (!path.starts_with("metadata.")) return Status(Code::kInvalidArgument, "unsupported fieldPath in a downwardAPI volume: " + path);
      value = PodFieldValue(pod, path, ctx, /*volume=*/true);
    } else if (const json::object* rr = api::FindObject(item, "resourceFieldRef")) {
      const std::string cname = api::GetString(*rr, "containerName");
      if (cname.empty()) return Status(Code::kInvalidArgument, "resourceFieldRef in a downwardAPI volume needs containerName");
      value = ContainerResourceValue(pod, cname, api::GetString(*rr, "resource"), rr->if_contains("divisor"), node);
    } else {
      return Status(Code::kInvalidArgument, "downwardAPI item " + api::GetString(item, "path") + " has no fieldRef or resourceFieldRef");
    }
    if (!value) return Status(Code::kInvalidArgument, value.error().message());
    if (Status s = AddPayloadFile(payload, api::GetString(item, "path"), std::move(*value), *mode); !s.ok()) return s;
  }
  return {};
}

Status CheckHostPathType(const std::string& path, const std::string& type) {
  if (type.empty()) return {};
  struct stat st {};
  const bool exists = stat(path.c_str(), &st) == 0;
  auto failed = [&](const char* what) {
    return Status(Code::kFailedPrecondition, "hostPath type check failed: " + path + " is not a " + what);
  };
  if (type == "DirectoryOrCreate" || type == "Directory") {
    if (!exists && type == "DirectoryOrCreate") return MakeDirs(path, 0755);
    if (!exists || !S_ISDIR(st.st_mode)) return failed("directory");
    return {};
  }
  if (type == "FileOrCreate" || type == "File") {
    if (!exists && type == "FileOrCreate") {
      const int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0) return Status(Code::kFailedPrecondition, "open " + path + ": " + std::strerror(errno));
      close(fd);
      return {};
    }
    if (!exists || !S_ISREG(st.st_mode)) return failed("file");
    return {};
  }
  if (type == "Socket") return exists && S_ISSOCK(st.st_mode) ? Status() : failed("socket file");
  if (type == "CharDevice") return exists && S_ISCHR(st.st_mode) ? Status() : failed("character device");
  if (type == "BlockDevice") return exists && S_ISBLK(st.st_mode) ? Status() : failed("block device");
  return Status(Code::kInvalidArgument, type + " is an invalid volume type");
}

}  // namespace kite::kubelet::volumes
