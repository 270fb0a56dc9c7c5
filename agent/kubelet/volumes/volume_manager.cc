#include "agent/kubelet/volumes/volume_manager.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>

#include "agent/kubelet/volumes/fs.h"
#include "api/object.h"
#include "api/quantity.h"

namespace kite::kubelet::volumes {
namespace json = boost::json;

namespace {

constexpr char kEmptyDir[] = "kubernetes.io~empty-dir";
constexpr char kConfigMap[] = "kubernetes.io~configmap";
constexpr char kSecret[] = "kubernetes.io~secret";
constexpr char kDownwardAPI[] = "kubernetes.io~downward-api";
constexpr char kProjected[] = "kubernetes.io~projected";
constexpr uint32_t kDefaultMode = 0644;

// A single path element we create under our root: a uid, a volume or container name.
bool SafeName(const std::string& s) {
  return !s.empty() && s.size() <= 253 && s.find('/') == std::string::npos && s.find('\0') == std::string::npos &&
         s != "." && s != "..";
}

bool HasBacksteps(const std::string& path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (path.compare(start, end - start, "..") == 0 && end - start == 2) return true;
    start = end + 1;
  }
  return false;
}

Status SetUpFailed(const std::string& volume, const Status& s) {
  return Status(s.code(), "MountVolume.SetUp failed for volume \"" + volume + "\" : " + s.message());
}

}  // namespace


VolumeManager::VolumeManager(Options opts, Lookup* lookup) : opts_(std::move(opts)), lookup_(lookup) {}

int64_t VolumeManager::Now() const { return opts_.now ? opts_.now() : static_cast<int64_t>(std::time(nullptr)); }

std::string VolumeManager::PodDir(const std::string& uid) const { return opts_.root_dir + "/pods/" + uid; }

std::string VolumeManager::VolumeDir(const std::string& uid, const std::string& plugin, const std::string& name) const {
  return PodDir(uid) + "/volumes/" + plugin + "/" + name;
}

VolumeManager::PodLock VolumeManager::LockPod(const std::string& uid) {
  std::shared_ptr<std::mutex> m;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto& slot = pod_locks_[uid];
    if (!slot) slot = std::make_shared<std::mutex>();
    m = slot;
  }
  PodLock held{m, std::unique_lock<std::mutex>(*m)};
  return held;
}

Status VolumeManager::SetUp(const json::object& pod) {
  const std::string uid = api::Uid(pod);
  if (!SafeName(uid)) return Status(Code::kInvalidArgument, "pod has no usable uid: \"" + uid + "\"");
  auto lock = LockPod(uid);
  Status first;
  for (const auto& v : api::GetArray(pod, {"spec", "volumes"})) {
    if (!v.is_object()) continue;
    Status s = SetUpVolume(pod, v.as_object(), false);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

Status VolumeManager::Update(const json::object& pod) {
  const std::string uid = api::Uid(pod);
  if (!SafeName(uid)) return Status(Code::kInvalidArgument, "pod has no usable uid: \"" + uid + "\"");
  auto lock = LockPod(uid);
  Status first;
  for (const auto& v : api::GetArray(pod, {"spec", "volumes"})) {
    if (!v.is_object()) continue;
    Status s = SetUpVolume(pod, v.as_object(), true);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

Status VolumeManager::SetUpVolume(const json::object& pod, const json::object& volume, bool contents_only) {
  const std::string name = api::GetString(volume, "name");
  if (!SafeName(name) || name[0] == '.') return Status(Code::kInvalidArgument, "invalid volume name \"" + name + "\"");
  Status s;
  if (const json::object* ed = api::FindObject(volume, "emptyDir")) {
    if (!contents_only) s = SetUpEmptyDir(pod, name, *ed);
  } else if (const json::object* hp = api::FindObject(volume, "hostPath")) {
    if (!contents_only) {
      const std::string path = api::GetString(*hp, "path");
      if (path.empty() || path[0] != '/' || HasBacksteps(path)) {
        s = Status(Code::kInvalidArgument, "hostPath path must be absolute and must not contain '..': \"" + path + "\"");
      } else {
        s = CheckHostPathType(path, api::GetString(*hp, "type"));
      }
    }
  } else if (const json::object* pvc = api::FindObject(volume, "persistentVolumeClaim")) {
    if (!contents_only) s = ClaimPath(pod, *pvc).status();
  } else {
    const char* plugin = nullptr;
    bool on_tmpfs = false;
    auto payload = MakePayload(pod, volume, &plugin, &on_tmpfs);
    if (!payload) s = payload.error();
    else s = SetUpWritten(pod, name, plugin, on_tmpfs, *payload);
  }
  return s.ok() ? s : SetUpFailed(name, s);
}

Status VolumeManager::SetUpEmptyDir(const json::object& pod, const std::string& name, const json::object& source) {
  const std::string dir = VolumeDir(api::Uid(pod), kEmptyDir, name);
  const std::string medium = api::GetString(source, "medium");
  if (!medium.empty() && medium != "Memory") return Status(Code::kInvalidArgument, "unsupported emptyDir medium \"" + medium + "\"");
  int64_t size = 0;
  if (const json::value* sl = source.if_contains("sizeLimit"); sl && !sl->is_null()) {
    auto q = api::Quantity::FromJson(*sl);
    if (!q || q->Sign() < 0) return Status(Code::kInvalidArgument, "invalid emptyDir sizeLimit");
    size = q->Value();
  }
  if (Status s = MakeDirs(dir, 0750); !s.ok()) return s;
  if (medium == "Memory" && opts_.tmpfs && !IsMountPoint(dir)) {
    if (Status s = MountTmpfs(dir, size); !s.ok()) return s;
  }
  if (const std::optional<uint32_t> gid = PodFSGroup(pod)) {  // the pod's fsGroup owns it, setgid
    if (chown(dir.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(*gid)) != 0) {
      return Status(Code::kInternal, "chown " + dir + ": " + std::strerror(errno));
    }
    if (chmod(dir.c_str(), 02777) != 0) return Status(Code::kInternal, "chmod " + dir + ": " + std::strerror(errno));
    return {};
  }
  if (chmod(dir.c_str(), 0777) != 0) return Status(Code::kInternal, "chmod " + dir + ": " + std::strerror(errno));
  return {};
}

Status VolumeManager::SetUpWritten(const json::object& pod, const std::string& name, const char* plugin, bool on_tmpfs,
                                   const Payload& payload) {
  const std::string dir = VolumeDir(api::Uid(pod), plugin, name);
  if (Status s = MakeDirs(dir, 0750); !s.ok()) return s;
  if (on_tmpfs && opts_.tmpfs && !IsMountPoint(dir)) {
    if (Status s = MountTmpfs(dir, 0); !s.ok()) return s;
  }
  if (chmod(dir.c_str(), on_tmpfs && opts_.tmpfs ? 01777 : 0777) != 0) {
    return Status(Code::kInternal, "chmod " + dir + ": " + std::strerror(errno));
  }
  // An fsGroup makes the files group-readable by it (upstream's read-only mask 0440).
  const std::optional<uint32_t> gid = PodFSGroup(pod);
  Payload owned = payload;
  if (gid) {
    for (auto& [path, file] : owned) file.mode |= 0440;
  }
  auto written = AtomicWriter(dir, gid).Write(owned);
  return written.status();
}

Result<Payload> VolumeManager::MakePayload(const json::object& pod, const json::object& volume, const char** plugin,
                                           bool* on_tmpfs) {
  const std::string ns = api::Namespace(pod);
  Payload payload;
  auto default_mode_of = [](const json::object& src) { return PayloadMode(src, "defaultMode", kDefaultMode); };
  if (const json::object* cm = api::FindObject(volume, "configMap")) {
    *plugin = kConfigMap;
    auto mode = default_mode_of(*cm);
    if (!mode) return mode.error();
    if (Status s = AddKeyedSource(payload, *lookup_, ns, *cm, false, *mode); !s.ok()) return s;
    return payload;
  }
  if (const json::object* sec = api::FindObject(volume, "secret")) {
    *plugin = kSecret;
    *on_tmpfs = true;
    auto mode = default_mode_of(*sec);
    if (!mode) return mode.error();
    if (Status s = AddKeyedSource(payload, *lookup_, ns, *sec, true, *mode); !s.ok()) return s;
    return payload;
  }
  if (const json::object* dw = api::FindObject(volume, "downwardAPI")) {
    *plugin = kDownwardAPI;
    *on_tmpfs = true;
    auto mode = default_mode_of(*dw);
    if (!mode) return mode.error();
    if (Status s = AddDownwardSource(payload, pod, api::GetArray(*dw, "items"), *mode, opts_.node); !s.ok()) return s;
    return payload;
  }
  if (const json::object* pr = api::FindObject(volume, "projected")) {
    *plugin = kProjected;
    *on_tmpfs = true;
    auto mode = default_mode_of(*pr);
    if (!mode) return mode.error();
    for (const auto& sv : api::GetArray(*pr, "sources")) {
      if (!sv.is_object()) continue;
      const json::object& src = sv.as_object();
      Status s;
      if (const json::object* c = api::FindObject(src, "configMap")) {
        s = AddKeyedSource(payload, *lookup_, ns, *c, false, *mode);
      } else if (const json::object* c2 = api::FindObject(src, "secret")) {
        s = AddKeyedSource(payload, *lookup_, ns, *c2, true, *mode);
      } else if (const json::object* d = api::FindObject(src, "downwardAPI")) {
        s = AddDownwardSource(payload, pod, api::GetArray(*d, "items"), *mode, opts_.node);
      } else if (const json::object* t = api::FindObject(src, "serviceAccountToken")) {
        auto token = ServiceAccountToken(pod, api::GetString(volume, "name"), *t);
        if (!token) return token.error();
        s = AddPayloadFile(payload, api::GetString(*t, "path"), std::move(*token), *mode);
      } else {
        std::string kinds;
        for (const auto& kv : src) kinds += (kinds.empty() ? "" : ", ") + std::string(kv.key());
        s = Status(Code::kInvalidArgument, "unsupported projected volume source (" + kinds + ")");
      }
      if (!s.ok()) return s;
    }
    return payload;
  }
  std::string kinds;
  for (const auto& kv : volume) {
    if (kv.key() != "name") kinds += (kinds.empty() ? "" : ", ") + std::string(kv.key());
  }
  return Status(Code::kInvalidArgument, "unsupported volume type (" + (kinds.empty() ? std::string("none") : kinds) + ")");
}

Result<std::string> VolumeManager::ServiceAccountToken(const json::object& pod, const std::string& volume,
                                                       const json::object& source) {
  const std::string path = api::GetString(source, "path");
  const std::string audience = api::GetString(source, "audience");
  const int64_t expiration = api::GetInt(source, "expirationSeconds", 3600);
  if (expiration < 600) return Status(Code::kInvalidArgument, "serviceAccountToken expirationSeconds must be at least 600");
  std::string sa = api::GetString(pod, {"spec", "serviceAccountName"});
  if (sa.empty()) sa = "default";
  const std::string key = api::Uid(pod) + "/" + volume + "/" + path;
  const int64_t now = Now();
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = tokens_.find(key);
    // Renewed past 80% of its lifetime or after 24 hours, as upstream's token manager does.
    if (it != tokens_.end()) {
      const Token& t = it->second;
      const int64_t ttl = t.expires - t.issued;
      if (now < t.issued + ttl * 8 / 10 && now < t.issued + 24 * 3600) return t.token;
    }
  }
  auto token = lookup_->RequestToken(api::Namespace(pod), sa, audience, expiration, pod);
  if (!token) {
    if (token.error().code() == Code::kUnimplemented) {
      return Status(Code::kUnimplemented, "failed to fetch token: the API server does not serve serviceaccounts/" + sa +
                                              "/token (TokenRequest) yet: " + token.error().message());
    }
    return Status(token.error().code(), "failed to fetch token: " + token.error().message());
  }
  if (token->token.empty()) return Status(Code::kInternal, "failed to fetch token: the server returned an empty token");
  std::lock_guard<std::mutex> l(mu_);
  tokens_[key] = Token{token->token, now, token->expiration_unix > now ? token->expiration_unix : now + expiration};
  return token->token;
}

Result<std::string> VolumeManager::ClaimPath(const json::object& pod, const json::object& claim_source) {
  const std::string ns = api::Namespace(pod);
  const std::string claim_name = api::GetString(claim_source, "claimName");
  auto pvc = lookup_->GetPersistentVolumeClaim(ns, claim_name);
  if (!pvc) {
    if (pvc.NotFound()) return Status(Code::kNotFound, "persistentvolumeclaim \"" + claim_name + "\" not found");
    return pvc.error();
  }
  const std::string phase = api::GetString(*pvc, {"status", "phase"});
  const std::string pv_name = api::GetString(*pvc, {"spec", "volumeName"});
  if (phase != "Bound" || pv_name.empty()) {
    return Status(Code::kFailedPrecondition, "PVC " + ns + "/" + claim_name + " has non-bound phase (\"" + phase +
                                                 "\") or empty pvc.Spec.VolumeName (\"" + pv_name + "\")");
  }
  auto pv = lookup_->GetPersistentVolume(pv_name);
  if (!pv) {
    if (pv.NotFound()) return Status(Code::kNotFound, "persistentvolume \"" + pv_name + "\" not found");
    return pv.error();
  }
  const json::object& ref = api::GetObject(*pv, {"spec", "claimRef"});
  if (!ref.empty() && (api::GetString(ref, "name") != claim_name || api::GetString(ref, "namespace") != ns ||
                       (!api::GetString(ref, "uid").empty() && api::GetString(ref, "uid") != api::Uid(*pvc)))) {
    return Status(Code::kFailedPrecondition, "persistentvolume \"" + pv_name + "\" is bound to another claim than " + ns + "/" + claim_name);
  }
  std::string path;
  if (const json::object* hp = api::FindObject(*pv, {"spec", "hostPath"})) {
    path = api::GetString(*hp, "path");
    if (path.empty() || path[0] != '/' || HasBacksteps(path)) return Status(Code::kInvalidArgument, "persistentvolume \"" + pv_name + "\" has a bad hostPath path");
    if (Status s = CheckHostPathType(path, api::GetString(*hp, "type")); !s.ok()) return s;
  } else if (const json::object* local = api::FindObject(*pv, {"spec", "local"})) {
    path = api::GetString(*local, "path");
    if (path.empty() || path[0] != '/' || HasBacksteps(path)) return Status(Code::kInvalidArgument, "persistentvolume \"" + pv_name + "\" has a bad local path");
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return Status(Code::kFailedPrecondition, "local volume path " + path + " of persistentvolume \"" + pv_name + "\" does not exist");
  } else {
    return Status(Code::kInvalidArgument, "persistentvolume \"" + pv_name + "\" has a volume source this kubelet cannot mount (hostPath and local are supported)");
  }
  return path;
}

Result<std::string> VolumeManager::VolumePath(const json::object& pod, const json::object& volume) {
  const std::string uid = api::Uid(pod), name = api::GetString(volume, "name");
  if (!SafeName(uid) || !SafeName(name)) return Status(Code::kInvalidArgument, "bad pod uid or volume name");
  if (volume.contains("emptyDir")) return VolumeDir(uid, kEmptyDir, name);
  if (const json::object* hp = api::FindObject(volume, "hostPath")) return api::GetString(*hp, "path");
  if (const json::object* pvc = api::FindObject(volume, "persistentVolumeClaim")) return ClaimPath(pod, *pvc);
  if (volume.contains("configMap")) return VolumeDir(uid, kConfigMap, name);
  if (volume.contains("secret")) return VolumeDir(uid, kSecret, name);
  if (volume.contains("downwardAPI")) return VolumeDir(uid, kDownwardAPI, name);
  if (volume.contains("projected")) return VolumeDir(uid, kProjected, name);
  return Status(Code::kInvalidArgument, "volume \"" + name + "\" has an unsupported volume type");
}

Result<std::string> VolumeManager::WriteEtcHosts(const json::object& pod, const std::vector<std::string>& pod_ips) {
  std::string content;
  if (api::GetBool(pod, {"spec", "hostNetwork"})) {
    std::ifstream in(opts_.host_hosts_file, std::ios::binary);
    if (!in) return Status(Code::kFailedPrecondition, "cannot read the node's hosts file " + opts_.host_hosts_file);
    content = "# Kubernetes-managed hosts file (host network).\n" +
              std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  } else {
    auto names = PodHostnameAndDomain(pod, opts_.node);
    if (!names) return names.error();
    const auto& [hostname, domain] = *names;
    content =
        "# Kubernetes-managed hosts file.\n"
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\n"
        "fe00::0\tip6-mcastprefix\n"
        "fe00::1\tip6-allnodes\n"
        "fe00::2\tip6-allrouters\n";
    for (const auto& ip : pod_ips) {
      content += domain.empty() ? ip + "\t" + hostname + "\n" : ip + "\t" + hostname + "." + domain + "\t" + hostname + "\n";
    }
  }
  const json::array& aliases = api::GetArray(pod, {"spec", "hostAliases"});
  if (!aliases.empty()) {
    content += "\n# Entries added by HostAliases.\n";
    for (const auto& av : aliases) {
      if (!av.is_object()) continue;
      std::string line = api::GetString(av.as_object(), "ip");
      for (const auto& h : api::GetArray(av.as_object(), "hostnames")) {
        if (h.is_string()) line += "\t" + std::string(h.as_string());
      }
      if (line.find('\n') != std::string::npos) return Status(Code::kInvalidArgument, "hostAliases entry with a newline");
      content += line + "\n";
    }
  }
  const std::string dir = PodDir(api::Uid(pod));
  if (Status s = MakeDirs(dir, 0750); !s.ok()) return s;
  const std::string path = dir + "/etc-hosts";
  if (Status s = WriteFileAtomically(path, content, 0644); !s.ok()) return s;
  return path;
}

Result<std::vector<cri::Mount>> VolumeManager::MountsFor(const json::object& pod, const json::object& container,
                                                         const std::vector<std::string>& pod_ips, const Env* env) {
  if (!SafeName(api::Uid(pod))) return Status(Code::kInvalidArgument, "pod has no usable uid");
  auto lock = LockPod(api::Uid(pod));
  std::map<std::string, const json::object*> volumes;
  for (const auto& v : api::GetArray(pod, {"spec", "volumes"})) {
    if (v.is_object()) volumes[api::GetString(v.as_object(), "name")] = &v.as_object();
  }
  const bool privileged = api::GetBool(container, {"securityContext", "privileged"});
  const std::string cname = api::GetString(container, "name");
  std::vector<cri::Mount> out;
  for (const auto& mv : api::GetArray(container, "volumeMounts")) {
    if (!mv.is_object()) continue;
    const json::object& m = mv.as_object();
    const std::string name = api::GetString(m, "name"), mount_path = api::GetString(m, "mountPath");
    auto vit = volumes.find(name);
    if (vit == volumes.end()) return Status(Code::kInvalidArgument, "container " + cname + ": volumeMount \"" + name + "\" names no volume of the pod");
    if (mount_path.empty() || mount_path[0] != '/') {
      return Status(Code::kInvalidArgument, "container " + cname + ": mountPath \"" + mount_path + "\" of volume \"" + name + "\" must be absolute");
    }
    std::string sub = api::GetString(m, "subPath");
    if (const std::string expr = api::GetString(m, "subPathExpr"); !expr.empty()) {
      // Expanded with the container's environment; a variable unset or empty is an error
      // (upstream's ExpandContainerVolumeMounts).
      if (!env) return Status(Code::kInvalidArgument, "container " + cname + ": subPathExpr needs the container's environment");
      std::map<std::string, std::string> vars(env->begin(), env->end());
      std::set<std::string> missing;
      sub = ExpandVars(expr, [&](const std::string& key) -> std::optional<std::string> {
        auto it = vars.find(key);
        if (it == vars.end() || it->second.empty()) {
          missing.insert(key);
          return std::string();
        }
        return it->second;
      });
      if (!missing.empty()) {
        std::string keys;
        for (const auto& k : missing) keys += (keys.empty() ? "" : ", ") + k;
        return Status(Code::kInvalidArgument, "container " + cname + ": subPathExpr of volume \"" + name + "\": missing value for " + keys);
      }
    }
    const json::object& volume = *vit->second;
    auto base = VolumePath(pod, volume);
    if (!base) return base.error();
    cri::Mount mount;
    mount.container_path = mount_path;
    mount.host_path = *base;
    // API data volumes are always read-only (upstream since 1.10); a claim may be read-only too.
    mount.readonly = api::GetBool(m, "readOnly") || volume.contains("configMap") || volume.contains("secret") ||
                     volume.contains("downwardAPI") || volume.contains("projected") ||
                     api::GetBool(volume, {"persistentVolumeClaim", "readOnly"});
    if (!sub.empty()) {
      if (sub[0] == '/' || HasBacksteps(sub)) {
        return Status(Code::kInvalidArgument, "container " + cname + ": subPath \"" + sub + "\" must be a relative path without '..'");
      }
      const std::string full = *base + "/" + sub;
      struct stat st {};
      if (lstat(full.c_str(), &st) != 0) {  // created without passing through the volume's symlinks
        if (Status s = MakeDirsBeneath(*base, sub, 0750); !s.ok()) {
          return Status(s.code(), "subPath \"" + sub + "\" of volume \"" + name + "\": " + s.message());
        }
      }
      char real_base[PATH_MAX], real_full[PATH_MAX];
      if (!realpath(base->c_str(), real_base) || !realpath(full.c_str(), real_full)) {
        return Status(Code::kFailedPrecondition, "subPath \"" + sub + "\" of volume \"" + name + "\": " + std::strerror(errno));
      }
      const std::string rb = real_base, rf = real_full;
      if (rf != rb && !(rf.size() > rb.size() && rf.compare(0, rb.size(), rb) == 0 && (rb == "/" || rf[rb.size()] == '/'))) {
        return Status(Code::kFailedPrecondition, "subPath \"" + sub + "\" of volume \"" + name + "\" points outside the volume");
      }
      mount.host_path = rf;
    }
    const std::string prop = api::GetString(m, "mountPropagation");
    if (prop.empty() || prop == "None") {
      mount.propagation = cri::MountPropagation::kPrivate;
    } else if (prop == "HostToContainer") {
      mount.propagation = cri::MountPropagation::kHostToContainer;
    } else if (prop == "Bidirectional") {
      if (!privileged) return Status(Code::kInvalidArgument, "container " + cname + ": Bidirectional mount propagation is available only to privileged containers");
      mount.propagation = cri::MountPropagation::kBidirectional;
    } else {
      return Status(Code::kInvalidArgument, "container " + cname + ": invalid mountPropagation \"" + prop + "\"");
    }
    out.push_back(std::move(mount));
  }
  const bool own_hosts = std::any_of(out.begin(), out.end(), [](const cri::Mount& m) { return m.container_path == "/etc/hosts"; });
  if (!pod_ips.empty() && !own_hosts) {
    if (!SafeName(api::Uid(pod))) return Status(Code::kInvalidArgument, "bad pod uid");
    auto hosts = WriteEtcHosts(pod, pod_ips);
    if (!hosts) return hosts.error();
    out.push_back(cri::Mount{.container_path = "/etc/hosts", .host_path = *hosts});
  }
  return out;
}

Result<std::string> VolumeManager::TerminationLogFile(const json::object& pod, const std::string& container, uint32_t attempt) {
  const std::string uid = api::Uid(pod);
  if (!SafeName(uid) || !SafeName(container)) return Status(Code::kInvalidArgument, "bad pod uid or container name");
  auto lock = LockPod(uid);
  const std::string dir = PodDir(uid) + "/containers/" + container;
  if (Status s = MakeDirs(dir, 0750); !s.ok()) return s;
  const std::string path = dir + "/" + std::to_string(attempt);
  const int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) return Status(Code::kInternal, "create " + path + ": " + std::strerror(errno));
  // Any user the container runs as may write its message.
  const bool ok = fchmod(fd, 0666) == 0;
  close(fd);
  if (!ok) return Status(Code::kInternal, "chmod " + path + ": " + std::strerror(errno));
  return path;
}

Status VolumeManager::TearDown(const std::string& uid) {
  if (!SafeName(uid)) return Status(Code::kInvalidArgument, "bad pod uid \"" + uid + "\"");
  auto lock = LockPod(uid);
  const std::string dir = PodDir(uid);
  for (const auto& mp : MountPointsUnder(dir)) {
    if (Status s = Unmount(mp); !s.ok()) return s;
  }
  if (Status s = RemoveTree(dir); !s.ok()) return s;
  std::lock_guard<std::mutex> l(mu_);
  pod_locks_.erase(uid);  // a caller waiting on it holds its own reference
  for (auto it = tokens_.lower_bound(uid + "/"); it != tokens_.end() && it->first.starts_with(uid + "/");) {
    it = tokens_.erase(it);
  }
  return {};
}

Status VolumeManager::Cleanup(const std::set<std::string>& live) {
  const std::string pods = opts_.root_dir + "/pods";
  DIR* d = opendir(pods.c_str());
  if (!d) return errno == ENOENT ? Status() : Status(Code::kInternal, "opendir " + pods + ": " + std::strerror(errno));
  std::vector<std::string> orphans;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (SafeName(name) && !live.contains(name)) orphans.push_back(name);
  }
  closedir(d);
  Status first;
  for (const auto& uid : orphans) {
    Status s = TearDown(uid);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

bool PodVolumesUse(const json::object& pod, bool secret, const std::string& name) {
  const char* kind = secret ? "secret" : "configMap";
  for (const auto& v : api::GetArray(pod, {"spec", "volumes"})) {
    if (!v.is_object()) continue;
    if (const json::object* src = api::FindObject(v.as_object(), kind)) {
      if (api::GetString(*src, secret ? "secretName" : "name") == name) return true;
    }
    for (const auto& p : api::GetArray(v.as_object(), {"projected", "sources"})) {
      if (!p.is_object()) continue;
      if (const json::object* src = api::FindObject(p.as_object(), kind); src && api::GetString(*src, "name") == name) return true;
    }
  }
  return false;
}

}  // namespace kite::kubelet::volumes
