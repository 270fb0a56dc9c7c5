#include "server/apiserver/certs.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/encoding.h"
#include "base/log.h"

namespace kite::apiserver {
namespace fs = std::filesystem;

namespace {

std::optional<std::string> ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status WriteFile(const fs::path& p, const std::string& data, unsigned mode) {
  fs::path tmp = p;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status(Code::kUnavailable, "write " + tmp.string());
    out << data;
  }
  ::chmod(tmp.c_str(), mode);
  std::error_code ec;
  fs::rename(tmp, p, ec);
  if (ec) return Status(Code::kUnavailable, "rename " + p.string() + ": " + ec.message());
  return Status::Ok();
}

std::optional<pki::KeyPair> Load(const fs::path& dir, const std::string& name) {
  auto crt = ReadFile(dir / (name + ".crt"));
  auto key = ReadFile(dir / (name + ".key"));
  if (!crt || !key || !pki::Inspect(*crt).ok()) return std::nullopt;
  return pki::KeyPair{*crt, *key};
}

Status Save(const fs::path& dir, const std::string& name, const pki::KeyPair& kp) {
  // Certificates are public, but the data dir holds nothing readable by others (issue 15).
  if (auto s = WriteFile(dir / (name + ".crt"), kp.cert_pem, 0600); !s.ok()) return s;
  return WriteFile(dir / (name + ".key"), kp.key_pem, 0600);
}

bool IsIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// A leaf is reused while it covers every wanted SAN and has more than 120 days left.
bool Usable(const pki::KeyPair& leaf, const pki::KeyPair& ca, const std::vector<std::string>& sans) {
  auto info = pki::Inspect(leaf.cert_pem);
  if (!info.ok() || !pki::SignedBy(leaf.cert_pem, ca.cert_pem)) return false;
  if (info->not_after - std::chrono::system_clock::now() < std::chrono::hours(24 * 120)) return false;
  for (const auto& s : sans) {
    const auto& have = IsIp(s) ? info->ip_addresses : info->dns_names;
    if (std::find(have.begin(), have.end(), s) == have.end()) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> WantedSans(const std::vector<std::string>& extra_sans) {
  std::vector<std::string> sans = {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                   "kubernetes.default.svc.cluster.local", "127.0.0.1", "::1", "10.43.0.1"};
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0 && host[0]) sans.emplace_back(host);
  ifaddrs* addrs = nullptr;
  if (getifaddrs(&addrs) == 0) {
    for (ifaddrs* a = addrs; a; a = a->ifa_next) {
      if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
      char buf[INET_ADDRSTRLEN] = {};
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof buf);
      sans.emplace_back(buf);
    }
    freeifaddrs(addrs);
  }
  sans.insert(sans.end(), extra_sans.begin(), extra_sans.end());
  std::vector<std::string> unique;
  for (auto& s : sans) if (std::find(unique.begin(), unique.end(), s) == unique.end()) unique.push_back(s);
  return unique;
}

Result<ClusterCerts> LoadOrCreateCerts(const std::string& tls_dir, const std::vector<std::string>& sans) {
  fs::path dir(tls_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status(Code::kUnavailable, "create " + tls_dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  ClusterCerts c;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  for (auto [name, slot] : {std::pair<const char*, pki::KeyPair*>{"server-ca", &c.server_ca}, {"client-ca", &c.client_ca}}) {
    if (auto kp = Load(dir, name)) {
      *slot = *kp;
      continue;
    }
    auto ca = pki::CreateCA(std::string("kite-") + name + "@" + std::to_string(now));
    if (!ca.ok()) return ca.status();
    if (auto s = Save(dir, name, *ca); !s.ok()) return s;
    KITE_LOG(0) << "certs: created " << name;
    *slot = *ca;
  }
  auto serving = Load(dir, "serving-kube-apiserver");
  if (!serving || !Usable(*serving, c.server_ca, sans)) {
    pki::CertSpec spec;
    spec.common_name = "kube-apiserver";
    spec.server = true;
    for (const auto& s : sans) (IsIp(s) ? spec.ip_addresses : spec.dns_names).push_back(s);
    auto kp = pki::Issue(c.server_ca, spec);
    if (!kp.ok()) return kp.status();
    if (auto s = Save(dir, "serving-kube-apiserver", *kp); !s.ok()) return s;
    KITE_LOG(0) << "certs: issued serving certificate for " << sans.size() << " names";
    serving = *kp;
  }
  c.serving = *serving;
  auto admin = Load(dir, "client-admin");
  if (!admin || !Usable(*admin, c.client_ca, {})) {
    pki::CertSpec spec;
    spec.common_name = "system:admin";
    spec.organizations = {"system:masters"};
    spec.client = true;
    auto kp = pki::Issue(c.client_ca, spec);
    if (!kp.ok()) return kp.status();
    if (auto s = Save(dir, "client-admin", *kp); !s.ok()) return s;
    admin = *kp;
  }
  c.admin = *admin;
  auto kubelet_client = Load(dir, "client-kube-apiserver");
  if (!kubelet_client || !Usable(*kubelet_client, c.client_ca, {})) {
    pki::CertSpec spec;
    spec.common_name = "system:apiserver";
    spec.organizations = {"system:masters"};
    spec.client = true;
    auto kp = pki::Issue(c.client_ca, spec);
    if (!kp.ok()) return kp.status();
    if (auto s = Save(dir, "client-kube-apiserver", *kp); !s.ok()) return s;
    kubelet_client = *kp;
  }
  c.kubelet_client = *kubelet_client;
  return c;
}

Status WriteKubeconfig(const std::string& path, const ClusterCerts& certs, const std::string& host, int port,
                       unsigned mode) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  std::string server_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::ostringstream y;
  y << "apiVersion: v1\n"
    << "kind: Config\n"
    << "clusters:\n"
    << "- cluster:\n"
    << "    certificate-authority-data: " << Base64Encode(certs.server_ca.cert_pem) << "\n"
    << "    server: https://" << server_host << ":" << port << "\n"
    << "  name: default\n"
    << "contexts:\n"
    << "- context:\n"
    << "    cluster: default\n"
    << "    user: default\n"
    << "  name: default\n"
    << "current-context: default\n"
    << "preferences: {}\n"
    << "users:\n"
    << "- name: default\n"
    << "  user:\n"
    << "    client-certificate-data: " << Base64Encode(certs.admin.cert_pem) << "\n"
    << "    client-key-data: " << Base64Encode(certs.admin.key_pem) << "\n";
  return WriteFile(path, y.str(), mode);
}

}  // namespace kite::apiserver
