// BuildSandboxConfig and the pod's DNS (upstream: kuberuntime_sandbox.go, dns/dns.go).
#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "agent/kubelet/container_config.h"
#include "agent/kubelet/sysctls.h"
#include "api/object.h"
#include "api/pod.h"

namespace kite::kubelet {
namespace json = boost::json;

namespace {

constexpr size_t kMaxDNSNameservers = 3;   // what libc reads
constexpr size_t kMaxDNSSearchPaths = 32;  // upstream's MaxDNSSearchPaths
constexpr size_t kMaxDNSSearchListChars = 2048;

// upstream's format.Pod: name_namespace(uid)
std::string SandboxPodDesc(const json::object& pod) {
  return api::Name(pod) + "_" + api::Namespace(pod) + "(" + api::Uid(pod) + ")";
}

bool IsDNS1123Label(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && !(c == '-' && i != 0 && i + 1 != s.size())) return false;
  }
  return true;
}

std::vector<std::string> OmitDuplicates(const std::vector<std::string>& in) {
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (const auto& s : in) {
    if (seen.insert(s).second) out.push_back(s);
  }
  return out;
}

// Options by name ("ndots:5" is named "ndots"); a later one of the same name replaces the value.
std::vector<std::string> MergeDNSOptions(const std::vector<std::string>& existing, const json::array& extra) {
  std::vector<std::string> out = existing;
  auto name_of = [](const std::string& o) { return o.substr(0, o.find(':')); };
  for (const auto& ov : extra) {
    if (!ov.is_object()) continue;
    const std::string name = api::GetString(ov.as_object(), "name");
    if (name.empty()) continue;
    const json::value* v = ov.as_object().if_contains("value");
    std::string opt = name;
    if (v && v->is_string()) opt += ":" + std::string(v->as_string());
    auto it = std::find_if(out.begin(), out.end(), [&](const std::string& o) { return name_of(o) == name; });
    if (it != out.end()) *it = opt;
    else out.push_back(opt);
  }
  return out;
}

}  // namespace

cri::DNSConfig ParseResolvConf(const std::string& text) {
  cri::DNSConfig c;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (auto h = line.find_first_of("#;"); h != std::string::npos) line.resize(h);
    std::istringstream words(line);
    std::string key;
    if (!(words >> key)) continue;
    std::vector<std::string> rest;
    for (std::string w; words >> w;) rest.push_back(w);
    if (key == "nameserver" && !rest.empty()) c.servers.push_back(rest[0]);
    else if (key == "search") c.searches = rest;
    else if (key == "options") c.options.insert(c.options.end(), rest.begin(), rest.end());
  }
  return c;
}

Result<cri::DNSConfig> ReadResolvConf(const std::string& path) {
  if (path.empty()) return cri::DNSConfig{};
  std::ifstream in(path);
  if (!in) return Status(Code::kFailedPrecondition, "cannot read resolv.conf " + path);
  std::stringstream text;
  text << in.rdbuf();
  return ParseResolvConf(text.str());
}

Result<cri::DNSConfig> PodDNSConfig(const json::object& pod, const NodeConfig& node, std::vector<PodEvent>* events) {
  const json::object& spec = api::GetObject(pod, "spec");
  std::string policy = api::GetString(spec, "dnsPolicy");
  if (policy.empty()) policy = "ClusterFirst";
  const bool host_network = api::GetBool(spec, "hostNetwork");
  enum { kCluster, kHost, kNone } type;
  if (policy == "ClusterFirstWithHostNet") type = kCluster;
  else if (policy == "ClusterFirst") type = host_network ? kHost : kCluster;
  else if (policy == "Default") type = kHost;
  else if (policy == "None") type = kNone;
  else return Status(Code::kInvalidArgument, "unsupported dnsPolicy \"" + policy + "\" of pod " + SandboxPodDesc(pod));

  cri::DNSConfig dns;
  if (type == kCluster && node.cluster_dns.empty()) {
    // Upstream falls back to the host's resolver and says so on the pod (naming ClusterFirst
    // whichever cluster policy it was).
    if (events) {
      events->push_back({"Warning", "MissingClusterDNS",
                         "pod: \"" + SandboxPodDesc(pod) +
                             "\". kubelet does not have ClusterDNS IP configured and cannot create Pod using \"ClusterFirst\" "
                             "policy. Falling back to \"Default\" policy."});
    }
    type = kHost;
  }
  const cri::DNSConfig host = node.host_dns.value_or(cri::DNSConfig{});
  if (type == kHost) {
    if (node.host_dns) {
      dns = host;
    } else {  // --resolv-conf "": the local machine's resolver, no search
      dns.servers = {"127.0.0.1"};
      dns.searches = {"."};
    }
  } else if (type == kCluster) {
    dns.servers = node.cluster_dns;
    if (!node.cluster_domain.empty()) {
      const std::string& d = node.cluster_domain;
      dns.searches = {api::Namespace(pod) + ".svc." + d, "svc." + d, d};
    }
    dns.searches.insert(dns.searches.end(), host.searches.begin(), host.searches.end());
    dns.options = {"ndots:5"};
  }
  if (const json::object* pc = api::FindObject(spec, "dnsConfig")) {
    std::vector<std::string> servers = dns.servers, searches = dns.searches;
    for (auto& s : api::GetStrings(*pc, "nameservers")) servers.push_back(s);
    for (auto& s : api::GetStrings(*pc, "searches")) searches.push_back(s);
    dns.servers = OmitDuplicates(servers);
    dns.searches = OmitDuplicates(searches);
    dns.options = MergeDNSOptions(dns.options, api::GetArray(*pc, "options"));
  }
  dns.searches = OmitDuplicates(dns.searches);
  // Trim as upstream does (libc ignores what is beyond), telling the user.
  size_t chars = 0, keep = 0;
  for (; keep < dns.searches.size() && keep < kMaxDNSSearchPaths; ++keep) {
    if (chars + dns.searches[keep].size() + (keep ? 1 : 0) > kMaxDNSSearchListChars) break;
    chars += dns.searches[keep].size() + (keep ? 1 : 0);
  }
  if (keep < dns.searches.size()) {
    dns.searches.resize(keep);
    if (events) {
      events->push_back({"Warning", "DNSConfigForming", "Search Line limits were exceeded, some search paths have been omitted"});
    }
  }
  if (dns.servers.size() > kMaxDNSNameservers) {
    dns.servers.resize(kMaxDNSNameservers);
    if (events) {
      events->push_back({"Warning", "DNSConfigForming", "Nameserver limits were exceeded, some nameservers have been omitted"});
    }
  }
  return dns;
}

std::string PodCgroupParent(const json::object& pod, const NodeConfig& node) {
  const std::string qos = api::PodQOSClass(pod);
  std::string root = node.cgroup_root;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  const std::string leaf = "pod" + api::Uid(pod);
  if (qos == "Guaranteed") return root + "/" + leaf;
  return root + (qos == "Burstable" ? "/burstable/" : "/besteffort/") + leaf;
}

Result<std::pair<std::string, std::string>> PodHostnameAndDomain(const json::object& pod, const NodeConfig& node) {
  const json::object& spec = api::GetObject(pod, "spec");
  std::string hostname = api::Name(pod);
  const std::string spec_hostname = api::GetString(spec, "hostname");
  if (!spec_hostname.empty()) {
    if (!IsDNS1123Label(spec_hostname)) {
      return Status(Code::kInvalidArgument, "pod Hostname \"" + spec_hostname + "\" is not a valid DNS label");
    }
    hostname = spec_hostname;
  }
  if (hostname.size() > 63) {  // a pod name may be longer than a hostname can be
    hostname.resize(63);
    while (!hostname.empty() && (hostname.back() == '-' || hostname.back() == '.')) hostname.pop_back();
  }
  std::string domain;
  const std::string subdomain = api::GetString(spec, "subdomain");
  if (!subdomain.empty()) {
    if (!IsDNS1123Label(subdomain)) {
      return Status(Code::kInvalidArgument, "pod Subdomain \"" + subdomain + "\" is not a valid DNS label");
    }
    domain = subdomain + "." + api::Namespace(pod) + ".svc." + node.cluster_domain;
  }
  return std::pair{hostname, domain};
}

Result<cri::PodSandboxConfig> BuildSandboxConfig(const json::object& pod, const NodeConfig& node,
                                                 std::vector<PodEvent>* events, uint32_t attempt) {
  cri::PodSandboxConfig c;
  c.metadata.name = api::Name(pod);
  c.metadata.namespace_ = api::Namespace(pod);
  c.metadata.uid = api::Uid(pod);
  c.metadata.attempt = attempt;
  if (c.metadata.name.empty() || c.metadata.namespace_.empty() || c.metadata.uid.empty()) {
    return Status(Code::kInvalidArgument, "pod has no name, namespace or uid");
  }
  const json::object& spec = api::GetObject(pod, "spec");
  c.host_network = api::GetBool(spec, "hostNetwork");
  c.host_pid = api::GetBool(spec, "hostPID");
  c.host_ipc = api::GetBool(spec, "hostIPC");
  c.share_pid = api::GetBool(spec, "shareProcessNamespace");
  for (auto& [name, value] : PodSysctls(pod)) c.sysctls[std::move(name)] = std::move(value);
  // A runtime refuses a privileged container in a sandbox that is not (upstream: any container,
  // init and ephemeral included, makes the sandbox privileged).
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    for (const auto& ctr : api::GetArray(spec, list)) {
      if (ctr.is_object() && api::GetBool(ctr.as_object(), {"securityContext", "privileged"})) c.privileged = true;
    }
  }
  // The pause container runs as the pod's user and groups (upstream's
  // generatePodSandboxLinuxConfig); out-of-range ids are left to the containers' config errors.
  const json::object& pod_sc = api::GetObject(spec, "securityContext");
  for (auto [member, into] : {std::pair{"runAsUser", &c.run_as_user}, std::pair{"runAsGroup", &c.run_as_group}}) {
    const json::value* v = pod_sc.if_contains(member);
    const int64_t id = v && v->is_number() ? api::AsInt(*v, -1) : -1;
    if (id >= 0 && id <= 2147483647) *into = id;
  }
  c.supplemental_groups = PodSupplementalGroups(pod_sc);
  // The pause container's seccomp filter: the pod's profile (upstream's sandbox config). A bad
  // one fails the sandbox the way it would fail each container.
  auto seccomp = SeccompProfileFor(api::GetObject(spec, "securityContext"), nullptr, node);
  if (!seccomp) return seccomp.error();
  c.seccomp = std::move(*seccomp);

  if (!c.host_network) {  // with the host's network the sandbox keeps the node's hostname
    auto names = PodHostnameAndDomain(pod, node);
    if (!names) return names.error();
    std::string hostname = names->first;
    if (api::GetBool(spec, "setHostnameAsFQDN") && !names->second.empty()) {
      const std::string fqdn = hostname + "." + names->second;
      if (fqdn.size() > 64) {
        return Status(Code::kInvalidArgument, "failed to construct FQDN from pod hostname and cluster domain, FQDN " + fqdn +
                                                  " is too long (64 characters is the max, " + std::to_string(fqdn.size()) +
                                                  " characters requested)");
      }
      hostname = fqdn;
    }
    c.hostname = hostname;
  }
  std::string logs = node.pod_logs_root;
  while (logs.size() > 1 && logs.back() == '/') logs.pop_back();
  c.log_directory = logs + "/" + c.metadata.namespace_ + "_" + c.metadata.name + "_" + c.metadata.uid;

  auto dns = PodDNSConfig(pod, node, events);
  if (!dns) return dns.error();
  c.dns_config = std::move(*dns);

  for (const auto& cv : api::GetArray(spec, "containers")) {
    if (!cv.is_object()) continue;
    for (const auto& pv : api::GetArray(cv.as_object(), "ports")) {
      if (!pv.is_object()) continue;
      const json::object& p = pv.as_object();
      const int64_t host_port = api::GetInt(p, "hostPort"), container_port = api::GetInt(p, "containerPort");
      if (host_port <= 0) continue;
      if (host_port > 65535 || container_port <= 0 || container_port > 65535) {
        return Status(Code::kInvalidArgument, "container " + api::GetString(cv.as_object(), "name") + ": invalid port " +
                                                  std::to_string(container_port) + " -> hostPort " + std::to_string(host_port));
      }
      cri::PortMapping m;
      const std::string proto = api::GetString(p, "protocol");
      m.protocol = proto == "UDP" ? cri::Protocol::kUDP : proto == "SCTP" ? cri::Protocol::kSCTP : cri::Protocol::kTCP;
      m.container_port = static_cast<int32_t>(container_port);
      m.host_port = static_cast<int32_t>(host_port);
      m.host_ip = api::GetString(p, "hostIP");
      c.port_mappings.push_back(std::move(m));
    }
  }
  c.cgroup_parent = PodCgroupParent(pod, node);

  for (const auto& kv : api::Labels(pod)) {
    if (kv.value().is_string()) c.labels[kv.key()] = kv.value().as_string();
  }
  c.labels["io.kubernetes.pod.name"] = c.metadata.name;
  c.labels["io.kubernetes.pod.namespace"] = c.metadata.namespace_;
  c.labels["io.kubernetes.pod.uid"] = c.metadata.uid;
  for (const auto& kv : api::Annotations(pod)) {
    if (kv.value().is_string()) c.annotations[kv.key()] = kv.value().as_string();
  }
  return c;
}

}  // namespace kite::kubelet
