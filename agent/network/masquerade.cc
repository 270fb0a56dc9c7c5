#include "agent/network/masquerade.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

extern char** environ;

namespace kite::network {

namespace {

constexpr const char* kComment = "flanneld masq";
constexpr const char* kForwardComment = "flanneld forward";

// Lines of an iptables-save output that are rules.
size_t CountRules(const std::string& save) {
  size_t n = 0;
  std::istringstream in(save);
  std::string line;
  while (std::getline(in, line)) n += line.starts_with("-A ") ? 1 : 0;
  return n;
}

bool Executable(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    if (access((std::string(dir) + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Whether the host's `iptables` alternative is the legacy one (a symlink chain ending in
// xtables-legacy-multi); false when it cannot tell.
bool HostDefaultIsLegacy() {
  std::error_code ec;
  for (const char* p : {"/usr/sbin/iptables", "/sbin/iptables"}) {
    auto target = std::filesystem::canonical(p, ec);
    if (!ec) return target.filename().string().find("legacy") != std::string::npos;
  }
  return false;
}

}  // namespace

std::string MasqueradeRules(const std::string& cluster, const std::string& pod_cidr) {
  const std::string c = std::string(" -m comment --comment \"") + kComment + "\"";
  const std::string f = std::string(" -m comment --comment \"") + kForwardComment + "\"";
  std::string r;
  r += "*nat\n";
  r += ":FLANNEL-POSTRTG - [0:0]\n";
  r += "-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000" + c + " -j RETURN\n";
  r += "-A FLANNEL-POSTRTG -s " + cluster + " -d " + cluster + c + " -j RETURN\n";
  r += "-A FLANNEL-POSTRTG ! -s " + cluster + " -d " + pod_cidr + c + " -j RETURN\n";
  r += "-A FLANNEL-POSTRTG -s " + cluster + " ! -d 224.0.0.0/4" + c + " -j MASQUERADE --random-fully\n";
  r += "-A FLANNEL-POSTRTG ! -s " + cluster + " -d " + cluster + c + " -j MASQUERADE --random-fully\n";
  r += "COMMIT\n";
  r += "*filter\n";
  r += ":FLANNEL-FWD - [0:0]\n";
  r += "-A FLANNEL-FWD -s " + cluster + f + " -j ACCEPT\n";
  r += "-A FLANNEL-FWD -d " + cluster + f + " -j ACCEPT\n";
  r += "COMMIT\n";
  return r;
}

IptablesCommands ChooseIptables(bool legacy_present, const std::string& legacy_save, bool nft_present,
                                const std::string& nft_save, bool host_default_legacy) {
  const IptablesCommands legacy{"iptables-legacy", "iptables-legacy-restore"};
  const IptablesCommands nft{"iptables-nft", "iptables-nft-restore"};
  if (!legacy_present && !nft_present) return IptablesCommands{};
  if (!legacy_present) return nft;
  if (!nft_present) return legacy;
  const size_t l = CountRules(legacy_save), n = CountRules(nft_save);
  if (l != n) return l > n ? legacy : nft;
  return host_default_legacy ? legacy : nft;
}

IptablesCommands DetectIptables() {
  const bool legacy = Executable("iptables-legacy-save"), nft = Executable("iptables-nft-save");
  std::string legacy_out, nft_out;
  if (legacy) (void)RunCommand({"iptables-legacy-save"}, "", &legacy_out);
  if (nft) (void)RunCommand({"iptables-nft-save"}, "", &nft_out);
  return ChooseIptables(legacy, legacy_out, nft, nft_out, HostDefaultIsLegacy());
}

kite::Status EnsureMasquerade(const IptablesCommands& ipt, const std::string& cluster, const std::string& pod_cidr) {
  std::string out;
  if (kite::Status s = RunCommand({ipt.restore, "-w", "--noflush"}, MasqueradeRules(cluster, pod_cidr), &out); !s.ok()) {
    return s.Annotate(ipt.restore + ": " + out);
  }
  struct Jump {
    const char *table, *chain, *target, *comment;
  };
  for (const Jump& j : {Jump{"nat", "POSTROUTING", "FLANNEL-POSTRTG", kComment},
                        Jump{"filter", "FORWARD", "FLANNEL-FWD", kForwardComment}}) {
    std::vector<std::string> rule{"-m", "comment", "--comment", j.comment, "-j", j.target};
    std::vector<std::string> check{ipt.iptables, "-w", "-t", j.table, "-C", j.chain};
    check.insert(check.end(), rule.begin(), rule.end());
    if (RunCommand(check, "").ok()) continue;
    std::vector<std::string> insert{ipt.iptables, "-w", "-t", j.table, "-I", j.chain, "1"};
    insert.insert(insert.end(), rule.begin(), rule.end());
    if (kite::Status s = RunCommand(insert, "", &out); !s.ok()) return s.Annotate(out);
  }
  return kite::Status::Ok();
}

kite::Status RunCommand(const std::vector<std::string>& argv, const std::string& input, std::string* output) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return kite::Status(Code::kInternal, std::string("pipe: ") + std::strerror(errno));
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return kite::Status(Code::kInternal, std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    return kite::Status(Code::kFailedPrecondition, "cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  // The inputs here are a few kB, well under a pipe's buffer: write all, then read all.
  size_t off = 0;
  while (off < input.size()) {
    const ssize_t n = write(in[1], input.data() + off, input.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  close(in[1]);
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (output) *output = text;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return kite::Status::Ok();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return kite::Status(Code::kInternal, argv[0] + " failed" + (text.empty() ? "" : ": " + text));
}

}  // namespace kite::network
