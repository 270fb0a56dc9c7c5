#include "agent/proxy/iptables.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>
#include <string_view>

extern char** environ;

namespace kite::proxy {

namespace {

std::string LastLines(const std::string& s) {
  std::string t = s;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  if (t.size() > 600) t = "…" + t.substr(t.size() - 600);
  return t;
}

size_t CountRules(const std::string& save) {
  size_t n = 0;
  std::istringstream in(save);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("-", 0) == 0) ++n;
  }
  return n;
}

}  // namespace

Result<std::string> RunCommand(const std::vector<std::string>& argv, const std::string& input) {
  if (argv.empty()) return Status(Code::kInvalidArgument, "no command");
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return Status(Code::kInternal, std::string("pipe: ") + std::strerror(errno));
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return Status(Code::kInternal, std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    close(err[0]);
    return Status(Code::kUnavailable, argv[0] + ": " + std::strerror(rc));
  }
  // Feed the input and drain both outputs together: a big batch would fill a pipe either way.
  std::string stdout_text, stderr_text;
  size_t written = 0;
  int in_fd = in[1];
  if (input.empty()) {
    close(in_fd);
    in_fd = -1;
  } else {
    fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  int open_outputs = 2;
  pollfd fds[3];
  while (open_outputs > 0 || in_fd >= 0) {
    nfds_t n = 0;
    fds[n++] = {out[0], POLLIN, 0};
    fds[n++] = {err[0], POLLIN, 0};
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (nfds_t i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      ssize_t r = read(fds[i].fd, buf, sizeof buf);
      if (r > 0) {
        std::string& dst = i == 0 ? stdout_text : stderr_text;
        dst.append(buf, static_cast<size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        // Closed: stop polling it (a negative fd is ignored by poll).
        if (i == 0) {
          close(out[0]);
          out[0] = -1;
        } else {
          close(err[0]);
          err[0] = -1;
        }
        --open_outputs;
      }
    }
    if (in_fd >= 0 && n == 3 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t r = write(in_fd, input.data() + written, input.size() - written);
      if (r > 0) written += static_cast<size_t>(r);
      if ((r < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  if (out[0] >= 0) close(out[0]);
  if (err[0] >= 0) close(err[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return stdout_text;
  std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                      : "signal " + std::to_string(WTERMSIG(status));
  std::string why = LastLines(stderr_text.empty() ? stdout_text : stderr_text);
  return Status(Code::kUnknown, argv[0] + " failed (" + how + ")" + (why.empty() ? "" : ": " + why));
}

const char* BackendName(Backend b) { return b == Backend::kNft ? "nft" : "legacy"; }

Backend DetectBackend(const Exec& exec) {
  auto nft = exec({"iptables-nft-save"}, "");
  auto legacy = exec({"iptables-legacy-save"}, "");
  auto hinted = [](const Result<std::string>& r) {
    return r.ok() && (r->find(":KUBE-IPTABLES-HINT") != std::string::npos ||
                      r->find(":KUBE-KUBELET-CANARY") != std::string::npos);
  };
  if (hinted(nft)) return Backend::kNft;
  if (hinted(legacy)) return Backend::kLegacy;
  if (!nft.ok() && legacy.ok()) return Backend::kLegacy;
  const size_t n = nft.ok() ? CountRules(*nft) : 0, l = legacy.ok() ? CountRules(*legacy) : 0;
  return l > n ? Backend::kLegacy : Backend::kNft;
}

std::string Iptables::Tool(const char* suffix) const {
  return std::string("iptables-") + BackendName(backend_) + suffix;
}

Status Iptables::Restore(const std::string& text) const {
  auto r = exec_({Tool("-restore"), "-w", "5", "--noflush"}, text);
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::string> Iptables::Save(const std::string& table) const { return exec_({Tool("-save"), "-t", table}, ""); }

Result<std::vector<std::string>> Iptables::NatChains() const {
  if (backend_ == Backend::kNft) {
    if (auto listing = exec_({"nft", "list", "chains", "ip"}, ""); listing.ok()) return ChainsOfNftListing(*listing, "nat");
  }
  auto save = Save("nat");
  if (!save.ok()) return save.status();
  return ChainsOf(*save);
}

Status Iptables::EnsureChain(const std::string& table, const std::string& chain) const {
  if (exec_({Tool(""), "-w", "5", "-t", table, "-S", chain, "1"}, "").ok()) return Status::Ok();
  auto r = exec_({Tool(""), "-w", "5", "-t", table, "-N", chain}, "");
  return r.ok() ? Status::Ok() : r.status();
}

Status Iptables::EnsureJumps() const {
  const std::vector<Jump> jumps = {
      {"filter", "INPUT", "KUBE-PROXY-FIREWALL",
       {"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes load balancer firewall"}},
      {"filter", "INPUT", "KUBE-NODEPORTS", {"-m", "comment", "--comment", "kubernetes health check service ports"}},
      {"filter", "INPUT", "KUBE-EXTERNAL-SERVICES",
       {"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes externally-visible service portals"}},
      {"filter", "FORWARD", "KUBE-PROXY-FIREWALL",
       {"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes load balancer firewall"}},
      {"filter", "FORWARD", "KUBE-FORWARD", {"-m", "comment", "--comment", "kubernetes forwarding rules"}},
      {"filter", "FORWARD", "KUBE-SERVICES",
       {"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes service portals"}},
      {"filter", "FORWARD", "KUBE-EXTERNAL-SERVICES",
       {"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes externally-visible service portals"}},
      {"filter", "OUTPUT", "KUBE-PROXY-FIREWALL",
       {"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes load balancer firewall"}},
      {"filter", "OUTPUT", "KUBE-SERVICES",
       {"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes service portals"}},
      {"nat", "OUTPUT", "KUBE-SERVICES", {"-m", "comment", "--comment", "kubernetes service portals"}},
      {"nat", "PREROUTING", "KUBE-SERVICES", {"-m", "comment", "--comment", "kubernetes service portals"}},
      {"nat", "POSTROUTING", "KUBE-POSTROUTING", {"-m", "comment", "--comment", "kubernetes postrouting rules"}},
  };
  return EnsureJumps(jumps);
}

Status Iptables::EnsureJumps(const std::vector<Jump>& jumps, bool first) const {
  // One listing per built-in chain (a process each; -C per rule would be one per rule), then an
  // insert for each jump missing. The targets exist: the restore before this declares them.
  std::map<std::string, std::string> listings;  // "table/chain" → iptables -S output
  for (const Jump& j : jumps) {
    const std::string key = j.table + "/" + j.chain;
    if (!listings.count(key)) {
      auto r = exec_({Tool(""), "-w", "5", "-t", j.table, "-S", j.chain}, "");
      if (!r.ok()) return r.status();
      listings[key] = *r;
    }
    const std::string& have = listings[key];
    const std::string comment = "--comment \"" + j.match.back() + "\"";
    const std::string jump = " -j " + j.target;
    bool present = false, is_first = false, seen_rule = false;
    std::istringstream in(have);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("-A ", 0) != 0) continue;
      const bool ours = line.find(comment) != std::string::npos && line.size() > jump.size() &&
                        line.compare(line.size() - jump.size(), std::string::npos, jump) == 0;
      if (ours) {
        present = true;
        is_first = !seen_rule;
        break;
      }
      seen_rule = true;
    }
    if (present && (!first || is_first)) continue;
    std::vector<std::string> rule = j.match;
    rule.insert(rule.end(), {"-j", j.target});
    if (present) {  // not first any more: deleted, then inserted on top again
      std::vector<std::string> del = {Tool(""), "-w", "5", "-t", j.table, "-D", j.chain};
      del.insert(del.end(), rule.begin(), rule.end());
      if (auto r = exec_(del, ""); !r.ok()) return r.status();
    }
    std::vector<std::string> insert = {Tool(""), "-w", "5", "-t", j.table, "-I", j.chain};
    if (first) insert.push_back("1");
    insert.insert(insert.end(), rule.begin(), rule.end());
    if (auto r = exec_(insert, ""); !r.ok()) return r.status();
  }
  return Status::Ok();
}

Status Iptables::RemoveJump(const Jump& j) const {
  std::vector<std::string> rule = j.match;
  rule.insert(rule.end(), {"-j", j.target});
  std::vector<std::string> check = {Tool(""), "-w", "5", "-t", j.table, "-C", j.chain};
  check.insert(check.end(), rule.begin(), rule.end());
  std::vector<std::string> del = {Tool(""), "-w", "5", "-t", j.table, "-D", j.chain};
  del.insert(del.end(), rule.begin(), rule.end());
  while (exec_(check, "").ok()) {
    if (auto r = exec_(del, ""); !r.ok()) return r.status();
  }
  return Status::Ok();
}

std::vector<std::string> ChainsOf(const std::string& save) {
  std::vector<std::string> out;
  std::istringstream in(save);
  for (std::string line; std::getline(in, line);) {
    if (line.size() < 2 || line[0] != ':') continue;
    size_t sp = line.find(' ');
    out.push_back(line.substr(1, sp == std::string::npos ? std::string::npos : sp - 1));
  }
  return out;
}

std::vector<std::string> ChainsOfNftListing(const std::string& listing, const std::string& table) {
  // table ip nat {
  // \tchain KUBE-SVC-… {
  // \t\ttype nat hook prerouting priority dstnat; policy accept;   (base chains only)
  // \t}
  // }
  std::vector<std::string> out;
  const std::string header = "table ip " + table + " {";
  bool in_table = false;
  size_t at = 0;
  while (at < listing.size()) {
    size_t nl = listing.find('\n', at);
    if (nl == std::string::npos) nl = listing.size();
    std::string_view line(listing.data() + at, nl - at);
    at = nl + 1;
    if (line.rfind("table ", 0) == 0) {
      in_table = line == header;
      continue;
    }
    if (!in_table) continue;
    while (!line.empty() && (line.front() == '\t' || line.front() == ' ')) line.remove_prefix(1);
    if (line.rfind("chain ", 0) != 0 || line.size() < 9 || line.substr(line.size() - 2) != " {") continue;
    std::string_view name = line.substr(6, line.size() - 8);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
    out.emplace_back(name);
  }
  return out;
}

}  // namespace kite::proxy
