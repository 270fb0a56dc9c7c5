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

#include "base/clock.h"
#include "base/encoding.h"
#include "base/fs.h"
#include "base/ip_address.h"
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

// A leaf is reused while it is signed by `ca`, covers every wanted SAN and has more than
// kRenewWithinDays left.
bool Usable(const pki::KeyPair& leaf, const pki::KeyPair& ca, const std::vector<std::string>& sans) {
  auto info = pki::Inspect(leaf.cert_pem);
  if (!info.ok() || !pki::SignedBy(leaf.cert_pem, ca.cert_pem)) return false;
  if (info->not_after - kite::Clock::Real()->Now() < std::chrono::hours(24 * kRenewWithinDays)) return false;
  for (const auto& s : sans) {
    const auto& have = IsIpAddress(s) ? info->ip_addresses : info->dns_names;
    if (std::find(have.begin(), have.end(), s) == have.end()) return false;
  }
  return true;
}

Status PrepareDir(const fs::path& dir) {
  std::error_code ec;
  files::CreateDirectories(dir, ec);
  if (ec) return Status(Code::kUnavailable, "create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  return Status::Ok();
}

// The CA `name` in `dir`: as found (created by an earlier start or put there by the user), else
// a new one.
Result<pki::KeyPair> EnsureCa(const fs::path& dir, const std::string& name) {
  if (auto kp = Load(dir, name)) return *kp;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       kite::Clock::Real()->Now().time_since_epoch()).count();
  auto ca = pki::CreateCA(std::string("kite-") + name + "@" + std::to_string(now));
  if (!ca.ok()) return ca.status();
  if (auto s = Save(dir, name, *ca); !s.ok()) return s;
  KITE_LOG(0) << "certs: created " << (dir / name).string();
  return ca;
}

// The leaf `name` signed by `ca`: reused while Usable, else issued from `spec` (its SANs are the
// wanted ones) and saved.
Result<pki::KeyPair> EnsureLeaf(const fs::path& dir, const std::string& name, const pki::KeyPair& ca,
                                pki::CertSpec spec) {
  std::vector<std::string> sans = spec.dns_names;
  sans.insert(sans.end(), spec.ip_addresses.begin(), spec.ip_addresses.end());
  if (auto have = Load(dir, name); have && Usable(*have, ca, sans)) return *have;
  auto kp = pki::Issue(ca, spec);
  if (!kp.ok()) return kp.status();
  if (auto s = Save(dir, name, *kp); !s.ok()) return s;
  KITE_LOG(0) << "certs: issued " << name << " (" << spec.common_name << ", " << spec.days << " days)";
  return kp;
}

pki::CertSpec ClientSpec(const std::string& user, std::vector<std::string> groups) {
  pki::CertSpec spec;
  spec.common_name = user;
  spec.organizations = std::move(groups);
  spec.client = true;
  return spec;
}

pki::CertSpec ServingSpec(const std::string& cn, const std::vector<std::string>& sans) {
  pki::CertSpec spec;
  spec.common_name = cn;
  spec.server = true;
  for (const auto& s : sans) (IsIpAddress(s) ? spec.ip_addresses : spec.dns_names).push_back(s);
  return spec;
}

}  // namespace

std::vector<std::string> WantedSans(const std::vector<std::string>& extra_sans, const std::string& cluster_cidr,
                                    const std::string& service_ip) {
  // The pod network's own addresses (the CNI bridge's gateway, the VXLAN device) are no way to
  // reach the API server, and they appear only once the agent has run: counting them would
  // re-issue the certificate at the next start.
  const auto pods = ParseIpv4Cidr(cluster_cidr);
  std::vector<std::string> sans = {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                   "kubernetes.default.svc.cluster.local", "127.0.0.1", "::1"};
  if (!service_ip.empty()) sans.push_back(service_ip);
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0 && host[0]) sans.emplace_back(host);
  ifaddrs* addrs = nullptr;
  if (getifaddrs(&addrs) == 0) {
    for (ifaddrs* a = addrs; a; a = a->ifa_next) {
      if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
      char buf[INET_ADDRSTRLEN] = {};
      const in_addr address = reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr;
      if (pods.ok() && pods->Contains(ntohl(address.s_addr))) continue;
      inet_ntop(AF_INET, &address, buf, sizeof buf);
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
  if (auto s = PrepareDir(dir); !s.ok()) return s;
  ClusterCerts c;
  for (auto [name, slot] : {std::pair<const char*, pki::KeyPair*>{"server-ca", &c.server_ca}, {"client-ca", &c.client_ca},
                                                                              {"request-header-ca", &c.request_header_ca}}) {
    auto ca = EnsureCa(dir, name);
    if (!ca.ok()) return ca.status();
    *slot = std::move(*ca);
  }
  struct Leaf {
    const char* file;
    pki::KeyPair* slot;
    const pki::KeyPair* ca;
    pki::CertSpec spec;
  };
  const Leaf leaves[] = {
      {"serving-kube-apiserver", &c.serving, &c.server_ca, ServingSpec("kube-apiserver", sans)},
      {"client-admin", &c.admin, &c.client_ca, ClientSpec("system:admin", {"system:masters"})},
      {"client-kube-apiserver", &c.kubelet_client, &c.client_ca, ClientSpec("system:apiserver", {"system:masters"})},
      {"client-controller", &c.controller_manager, &c.client_ca, ClientSpec("system:kube-controller-manager", {})},
      {"client-scheduler", &c.scheduler, &c.client_ca, ClientSpec("system:kube-scheduler", {})},
      {"client-kube-proxy", &c.kube_proxy, &c.client_ca, ClientSpec("system:kube-proxy", {})},
      {"client-auth-proxy", &c.auth_proxy, &c.request_header_ca, ClientSpec("system:auth-proxy", {})},
  };
  for (const auto& l : leaves) {
    auto kp = EnsureLeaf(dir, l.file, *l.ca, l.spec);
    if (!kp.ok()) return kp.status();
    *l.slot = std::move(*kp);
  }
  return c;
}

Result<EtcdCerts> LoadOrCreateEtcdCerts(const std::string& tls_dir, const std::vector<std::string>& sans) {
  const fs::path dir = fs::path(tls_dir) / "etcd";
  if (auto s = PrepareDir(fs::path(tls_dir)); !s.ok()) return s;
  if (auto s = PrepareDir(dir); !s.ok()) return s;
  EtcdCerts e;
  auto ca = EnsureCa(dir, "server-ca");
  if (!ca.ok()) return ca.status();
  e.ca = std::move(*ca);
  auto server = EnsureLeaf(dir, "server", e.ca, ServingSpec("etcd", sans));
  if (!server.ok()) return server.status();
  e.server = std::move(*server);
  auto client = EnsureLeaf(dir, "client", e.ca, ClientSpec("etcd", {}));
  if (!client.ok()) return client.status();
  e.client = std::move(*client);
  return e;
}

Result<std::vector<std::string>> LeafFiles(const std::string& service) {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kServices = {
      {"admin", {"client-admin"}},
      {"api-server", {"serving-kube-apiserver", "client-kube-apiserver", "client-auth-proxy"}},
      {"controller-manager", {"client-controller"}},
      {"scheduler", {"client-scheduler"}},
      {"kube-proxy", {"client-kube-proxy"}},
      {"kubelet", {}},  // the embedded kubelet's certificates are issued at every start
      {"etcd", {"etcd/server", "etcd/client"}},
  };
  std::vector<std::string> out;
  for (const auto& [name, files] : kServices) {
    if (service.empty() || service == name) out.insert(out.end(), files.begin(), files.end());
  }
  if (!service.empty() && std::none_of(kServices.begin(), kServices.end(), [&](const auto& s) { return s.first == service; })) {
    std::string known;
    for (const auto& s : kServices) known += (known.empty() ? "" : ", ") + s.first;
    return Status(Code::kInvalidArgument, "unknown service \"" + service + "\" (known: " + known + ")");
  }
  return out;
}

Result<pki::KeyPair> IssueKubeletServingCert(const ClusterCerts& certs, const std::string& node,
                                             const std::vector<std::string>& ips) {
  pki::CertSpec spec;
  spec.common_name = node;
  spec.server = true;
  spec.dns_names = {node, "localhost"};
  spec.ip_addresses = {"127.0.0.1"};
  for (const auto& ip : ips) {
    if (ip != "127.0.0.1" && IsIpAddress(ip)) spec.ip_addresses.push_back(ip);
  }
  return pki::Issue(certs.server_ca, spec);
}

Status WriteKubeconfig(const std::string& path, const ClusterCerts& certs, const std::string& host, int port,
                       unsigned mode) {
  std::error_code ec;
  files::CreateDirectories(fs::path(path).parent_path(), ec);
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
