#include "tests/unit/agent/cri/cri_test_env.h"

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "tests/unit/eventually.h"
#include "tests/unit/shell.h"

namespace kite::cri::testing {
namespace fs = std::filesystem;

namespace {

constexpr const char* kDirPrefix = "kite-cri-test.";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// /run/kite/<id>: the containerd state of this data dir and what the supervisor puts beside it.
std::string RunDir(const std::string& data_dir) {
  return fs::path(ContainerdPaths::For(data_dir).state).parent_path().string();
}

// Every process whose command line names `needle` (containerd --config <dir>/..., the shims'
// -address /run/kite/<id>/...).
std::vector<pid_t> ProcessesMentioning(const std::string& needle) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::string cmdline = ReadFile(e.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    const pid_t pid = std::stoi(name);
    if (pid != getpid() && cmdline.find(needle) != std::string::npos) out.push_back(pid);
  }
  return out;
}

// The cgroup directories named `parent` in every hierarchy (v2's one, or v1's per controller).
std::vector<std::string> CgroupDirs(const std::string& parent) {
  std::vector<std::string> out;
  std::error_code ec;
  if (fs::is_directory("/sys/fs/cgroup" + parent)) out.push_back("/sys/fs/cgroup" + parent);
  for (const auto& e : fs::directory_iterator("/sys/fs/cgroup", ec)) {
    const std::string dir = e.path().string() + parent;
    if (e.is_directory() && fs::is_directory(dir)) out.push_back(dir);
  }
  return out;
}

std::vector<pid_t> CgroupProcs(const std::string& dir) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename() != "cgroup.procs") continue;
    std::istringstream in(ReadFile(it->path().string()));
    for (pid_t pid; in >> pid;) out.push_back(pid);
  }
  return out;
}

void RemoveCgroupTree(const std::string& dir) {
  std::vector<std::string> dirs;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory()) dirs.push_back(it->path().string());
  }
  std::sort(dirs.begin(), dirs.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& d : dirs) rmdir(d.c_str());
  rmdir(dir.c_str());
}

// Mount points under any of `roots`, deepest first.
std::vector<std::string> MountsUnder(const std::vector<std::string>& roots) {
  std::vector<std::string> out;
  std::istringstream in(ReadFile("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point;
    fields >> id >> parent >> devno >> root >> mount_point;
    for (const auto& r : roots) {
      if (mount_point == r || mount_point.starts_with(r + "/")) out.push_back(mount_point);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  return out;
}

}  // namespace

std::string RealContainerdSkipReason() {
  if (geteuid() != 0) return "needs root (containerd, runc and CNI)";
  if (std::string why = ContainerdPreflight("containerd"); !why.empty()) return why;
  if (access("/usr/bin/ctr", X_OK) != 0 && kite::testing::Shell("command -v ctr").empty()) {
    return "ctr (containerd's client, to import the test images) is not installed";
  }
  for (const char* archive : {"pause.tar", "busybox.tar"}) {
    const std::string path = std::string(kImagesDir) + "/" + archive;
    if (!fs::exists(path)) return path + " is missing (the kite-images target builds it; busybox needs busybox-static)";
  }
  return "";
}

kite::Status EnterPrivateNetworkNamespace() {
  if (unshare(CLONE_NEWNET) != 0) return kite::Status(Code::kInternal, std::string("unshare(CLONE_NEWNET): ") + strerror(errno));
  // containerd's stream server listens on 127.0.0.1.
  if (system("ip link set lo up") != 0) return kite::Status(Code::kInternal, "ip link set lo up failed");
  return kite::Status::Ok();
}

std::string MakeTestDataDir() {
  std::string tmpl = (fs::temp_directory_path() / (std::string(kDirPrefix) + "XXXXXX")).string();
  if (!mkdtemp(tmpl.data())) return "";
  std::ofstream(tmpl + "/owner.pid") << getpid() << "\n";
  return tmpl;
}

std::string TestCgroupParent(const std::string& data_dir) {
  std::string suffix = fs::path(data_dir).filename().string();
  if (suffix.starts_with(kDirPrefix)) suffix = suffix.substr(std::string(kDirPrefix).size());
  return "/kite-cri-test-" + suffix;
}

void SweepDataDir(const std::string& data_dir) {
  const std::string run_dir = RunDir(data_dir);
  // containerd and its shims first, so nothing restarts a container while we kill it.
  for (const std::string& needle : {data_dir + "/", run_dir + "/"}) {
    for (pid_t pid : ProcessesMentioning(needle)) kill(pid, SIGKILL);
  }
  for (const auto& dir : CgroupDirs(TestCgroupParent(data_dir))) {
    kite::testing::Eventually([&] {
      auto procs = CgroupProcs(dir);
      for (pid_t pid : procs) kill(pid, SIGKILL);
      return procs.empty();
    });
    RemoveCgroupTree(dir);
  }
  for (const auto& m : MountsUnder({data_dir, run_dir})) umount2(m.c_str(), MNT_DETACH);
  std::error_code ec;
  fs::remove_all(data_dir, ec);
  fs::remove_all(run_dir, ec);
}

void SweepLeftovers() {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::temp_directory_path(), ec)) {
    if (!e.path().filename().string().starts_with(kDirPrefix)) continue;
    const std::string owner = ReadFile(e.path().string() + "/owner.pid");
    const pid_t pid = owner.empty() ? 0 : std::atoi(owner.c_str());
    if (pid > 0 && pid != getpid() && kill(pid, 0) == 0) continue;  // another run, still going
    SweepDataDir(e.path().string());
  }
}

std::string ImportImage(const std::string& socket, const std::string& snapshotter, const std::string& archive) {
  const std::string cmd = "ctr --address '" + socket + "' -n k8s.io images import --snapshotter '" + snapshotter +
                          "' '" + archive + "' 2>&1; echo \"exit=$?\"";
  std::string out = kite::testing::Shell(cmd);
  return out.ends_with("exit=0\n") ? "" : out;
}

}  // namespace kite::cri::testing
