#include "agent/network/cni_config.h"

#include <arpa/inet.h>

#include <boost/json.hpp>
#include <charconv>
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

}  // namespace kite::network
