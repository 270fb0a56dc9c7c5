#include "agent/network/cni_config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <limits.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <vector>
#include <filesystem>

#include "base/atomic_file.h"
#include "base/fs.h"
#include "base/pki.h"

namespace kite::network {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// The data dir's one spelling: absolute, normal, no trailing slash.
std::string DataDir(const std::string& data_dir) {
  fs::path p = fs::absolute(data_dir).lexically_normal();
  if (p.has_parent_path() && !p.has_filename()) p = p.parent_path();
  return p.string();
}

// Whether `cidr` is "<address>/<prefix>"; sets `v6` to its family.
bool ParseCidr(const std::string& cidr, bool* v6) {
  const auto slash = cidr.find('/');
  if (slash == std::string::npos) return false;
  const std::string addr = cidr.substr(0, slash);
  unsigned char buf[16];
  *v6 = addr.find(':') != std::string::npos;
  if (inet_pton(*v6 ? AF_INET6 : AF_INET, addr.c_str(), buf) != 1) return false;
  int prefix = -1;
  const char* first = cidr.data() + slash + 1;
  const char* last = cidr.data() + cidr.size();
  auto [end, ec] = std::from_chars(first, last, prefix);
  return ec == std::errc() && end == last && first != last && prefix >= 0 && prefix <= (*v6 ? 128 : 32);
}

}  // namespace

std::string CniBridgeName(const std::string& data_dir) {
  return "kite" + pki::Sha256Hex(DataDir(data_dir)).substr(0, 8);
}

std::string CniConfigPath(const CniConfigOptions& o) {
  const std::string dir = o.conf_dir.empty() ? DataDir(o.data_dir) + "/agent/etc/cni/net.d" : o.conf_dir;
  return dir + "/10-kite.conflist";
}

Result<std::string> CniConflist(const CniConfigOptions& o) {
  bool v6 = false;
  if (!ParseCidr(o.pod_cidr, &v6)) {
    return kite::Status(Code::kInvalidArgument, "pod CIDR \"" + o.pod_cidr + "\" is not an address/prefix");
  }
  json::object bridge{
      {"type", "bridge"},
      {"bridge", o.bridge_name.empty() ? CniBridgeName(o.data_dir) : o.bridge_name},
      {"isGateway", true},
      {"ipMasq", o.ip_masq},
      {"hairpinMode", true},
      {"ipam",
       {{"type", "host-local"},
        {"ranges", json::array{json::array{json::object{{"subnet", o.pod_cidr}}}}},
        {"routes", json::array{json::object{{"dst", v6 ? "::/0" : "0.0.0.0/0"}}}},
        // Allocations with the node's other state, not in the host's /var/lib/cni.
        {"dataDir", DataDir(o.data_dir) + "/agent/cni/networks"}}},
  };
  if (o.mtu > 0) bridge["mtu"] = o.mtu;
  json::object conflist{
      {"cniVersion", "1.0.0"},
      {"name", "kite-pod-network"},
      {"plugins", json::array{bridge, json::object{{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}}}},
  };
  return json::serialize(conflist) + "\n";
}

Result<bool> WriteCniConfig(const CniConfigOptions& o) {
  auto text = CniConflist(o);
  if (!text.ok()) return text.error();
  const std::string path = CniConfigPath(o);
  std::error_code ec;
  files::CreateDirectories(fs::path(path).parent_path(), ec);
  if (ec) return kite::Status(Code::kInternal, "cannot create " + fs::path(path).parent_path().string() + ": " + ec.message());
  // The temporary file's name (".tmp") is one containerd ignores: it reads *.conf, *.conflist, *.json.
  return WriteFileIfChanged(path, *text);
}

namespace {

std::string ReadLink(const std::string& path) {
  char buf[PATH_MAX];
  const ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

// `path` becomes a symlink to `target` (replacing what was there in one rename).
Status LinkTo(const std::string& path, const std::string& target) {
  if (ReadLink(path) == target) return Status::Ok();
  const std::string tmp = path + ".tmp";
  unlink(tmp.c_str());
  if (symlink(target.c_str(), tmp.c_str()) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return Status(Code::kInternal, "link " + path + " to " + target + ": " + std::strerror(err));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> PrepareCniBinDir(const std::string& data_dir, const std::string& system_dir,
                                     const std::string& kite_cni) {
  if (kite_cni.empty()) return system_dir;
  const std::string dir = DataDir(data_dir) + "/agent/cni/bin";
  std::error_code ec;
  files::CreateDirectories(dir, ec);
  if (ec) return kite::Status(Code::kInternal, "cannot create " + dir + ": " + ec.message());
  std::map<std::string, std::string> want{{"system", system_dir}};
  if (DIR* d = opendir(system_dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != ".." && name != "system") want[name] = system_dir + "/" + name;
    }
    closedir(d);
  }
  for (const char* ours : {"bridge", "loopback", "portmap"}) want[ours] = kite_cni;
  for (const auto& [name, target] : want) {
    if (Status s = LinkTo(dir + "/" + name, target); !s.ok()) return s;
  }
  if (DIR* d = opendir(dir.c_str())) {
    std::vector<std::string> stale;
    while (const dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != ".." && !want.contains(name)) stale.push_back(name);
    }
    closedir(d);
    for (const std::string& name : stale) unlink((dir + "/" + name).c_str());
  }
  return dir;
}

std::string FindKiteCni() {
  const std::string self = ReadLink("/proc/self/exe");
  const auto slash = self.rfind('/');
  if (slash == std::string::npos) return "";
  const std::string path = self.substr(0, slash) + "/kite-cni";
  return access(path.c_str(), X_OK) == 0 ? path : "";
}

}  // namespace kite::network
