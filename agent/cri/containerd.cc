#include "agent/cri/containerd.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "agent/cri/cri_client.h"
#include "base/atomic_file.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/thread_name.h"

namespace kite::cri {
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

// Whether an overlay mount with two lower dirs (what containerd's overlayfs snapshotter does)
// works on the filesystem of `dir`: it does not on top of another overlay or in some user
// namespaces. "" when it works, else why not.
std::string OverlayProblem(const std::string& dir) {
  const std::string probe = dir + "/overlay-probe";
  std::error_code ec;
  fs::remove_all(probe, ec);
  for (const char* d : {"lower1", "lower2", "upper", "work", "merged"}) files::CreateDirectories(probe + "/" + d, ec);
  if (ec) return "cannot create " + probe + ": " + ec.message();
  const std::string opts = "lowerdir=" + probe + "/lower1:" + probe + "/lower2,upperdir=" + probe +
                           "/upper,workdir=" + probe + "/work";
  const std::string merged = probe + "/merged";
  std::string problem;
  if (mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) != 0) {
    problem = std::string("overlay mount failed: ") + strerror(errno);
  } else {
    umount2(merged.c_str(), MNT_DETACH);
  }
  fs::remove_all(probe, ec);
  return problem;
}

// The last non-empty line of containerd's log (why it exited, usually), at most 300 bytes.
std::string LastLogLine(const std::string& log_file) {
  std::ifstream in(log_file, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff from = std::max<std::streamoff>(0, size - 4096);
  in.seekg(from);
  std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  std::string line = tail.substr(tail.find_last_of('\n') == std::string::npos ? 0 : tail.find_last_of('\n') + 1);
  if (line.size() > 300) line = line.substr(0, 300) + "...";
  return line;
}

// Whether this process has CAP_SYS_RESOURCE (needed to lower an oom_score_adj), from
// /proc/self/status's effective set.
bool HasCapSysResource() {
  constexpr int kCapSysResource = 24;
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("CapEff:")) continue;
    const uint64_t caps = std::stoull(line.substr(7), nullptr, 16);
    return (caps >> kCapSysResource) & 1;
  }
  return false;
}

// A containerd still running with this config (left by an agent that died without taking it
// along) holds the socket and the lock of the metadata database: a new one would hang on that
// lock. Stops it: SIGTERM, SIGKILL after the grace. Its containers stay, as on any restart.
void StopStrayContainerd(const std::string& config_file, milliseconds grace) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::vector<std::string> argv;
    for (std::string arg; std::getline(in, arg, '\0');) argv.push_back(arg);
    if (argv.empty() || fs::path(argv[0]).filename() != "containerd") continue;
    const auto config = std::find(argv.begin(), argv.end(), "--config");
    if (config == argv.end() || config + 1 == argv.end() || *(config + 1) != config_file) continue;
    const pid_t pid = std::stoi(name);
    KITE_LOG(0) << "containerd: a containerd (pid " << pid << ") still runs with " << config_file << "; stopping it";
    kill(pid, SIGTERM);
    const auto deadline = Clock::now() + grace;
    while (kill(pid, 0) == 0 && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(50));
    kill(pid, SIGKILL);
    for (int i = 0; i < 100 && kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(milliseconds(50));
  }
}

std::string DescribeExit(int wait_status) {
  if (WIFSIGNALED(wait_status)) return std::string("was killed by signal ") + strsignal(WTERMSIG(wait_status));
  return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
}

}  // namespace

ContainerdSupervisor::ContainerdSupervisor(ContainerdOptions options)
    : options_(std::move(options)), paths_(ContainerdPaths::For(options_.data_dir)) {}

ContainerdSupervisor::~ContainerdSupervisor() { Stop(); }

kite::Status ContainerdSupervisor::Start(milliseconds ready_timeout) {
  std::lock_guard<std::mutex> start_lock(stop_mu_);
  if (thread_.joinable()) return kite::Status(Code::kFailedPrecondition, "containerd supervisor already started");
  auto fail = [&](Code code, const std::string& why) {
    std::lock_guard<std::mutex> lock(mu_);
    problem_ = why;
    KITE_LOG(0) << "containerd: " << why;
    return kite::Status(code, why);
  };
  if (std::string why = ContainerdPreflight(options_.containerd_binary); !why.empty()) {
    return fail(Code::kFailedPrecondition, why);
  }
  const std::string conf_dir = options_.cni_conf_dir.empty() ? paths_.cni_conf_dir : options_.cni_conf_dir;
  for (const std::string& dir : {fs::path(paths_.config_file).parent_path().string(), paths_.root, paths_.state, conf_dir}) {
    std::error_code ec;
    files::CreateDirectories(dir, ec);
    if (ec) return fail(Code::kFailedPrecondition, "cannot create " + dir + ": " + ec.message());
  }
  ContainerdHostFacts facts;
  facts.snapshotter = options_.snapshotter;
  if (facts.snapshotter.empty()) {
    std::string why = OverlayProblem(paths_.root);
    facts.snapshotter = why.empty() ? "overlayfs" : "native";
    if (!why.empty()) KITE_LOG(0) << "containerd: snapshotter native, as overlayfs cannot work in " << paths_.root << ": " << why;
  }
  facts.runtimes = FindRuntimeHandlers(options_.runtime_search_root);
  auto default_runtime = ChooseDefaultRuntime(options_.default_runtime, facts.runtimes);
  if (!default_runtime.ok()) return fail(Code::kInvalidArgument, default_runtime.error().message());
  facts.default_runtime = *default_runtime;
  {
    std::string handlers;
    for (const auto& h : facts.runtimes) handlers += " " + h.name + (h.binary.empty() ? "" : " (" + h.binary + ")");
    KITE_LOG(0) << "containerd: runtime handlers" << handlers << "; default " << facts.default_runtime;
  }
  facts.restrict_oom_score_adj = !HasCapSysResource();
  if (facts.restrict_oom_score_adj) {
    KITE_LOG(0) << "containerd: no CAP_SYS_RESOURCE here: an oom_score_adj below containerd's own is raised to it";
  }
  snapshotter_ = facts.snapshotter;
  // 0600: the registry configuration may hold credentials.
  if (auto w = WriteFileIfChanged(paths_.config_file, ContainerdConfigToml(options_, paths_, facts), 0600); !w.ok()) {
    return fail(Code::kFailedPrecondition, w.error().message());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = done_ = ready_ = false;
    problem_ = "containerd is starting";
  }
  std::unique_lock<std::mutex> lock(mu_);
  const int restarts_before = restarts_;
  lock.unlock();
  StopStrayContainerd(paths_.config_file, options_.stop_grace);
  thread_ = std::thread([this] {
    SetThreadName("containerd-sup");
    Supervise();
  });
  lock.lock();
  // Ready, or the first attempt failed (a config containerd rejects need not wait the timeout).
  cv_.wait_for(lock, ready_timeout, [&] { return ready_ || restarts_ > restarts_before || done_; });
  if (ready_) return kite::Status::Ok();
  return kite::Status(Code::kUnavailable, problem_.empty() ? "containerd did not become ready" : problem_);
}

void ContainerdSupervisor::Stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  if (!thread_.joinable()) return;
  std::unique_lock<std::mutex> lock(mu_);
  stopping_ = true;
  cv_.notify_all();
  // SIGTERM lets containerd close its database cleanly; the shims and containers stay.
  const auto deadline = Clock::now() + options_.stop_grace;
  int termed = 0;
  while (!done_ && Clock::now() < deadline) {
    if (pid_ > 0 && termed != pid_) {
      kill(pid_, SIGTERM);
      termed = pid_;
    }
    cv_.wait_until(lock, deadline);
  }
  if (!done_ && pid_ > 0) {
    KITE_LOG(0) << "containerd: still running " << options_.stop_grace.count() << " ms after SIGTERM; killing it";
  }
  while (!done_) {
    if (pid_ > 0) kill(pid_, SIGKILL);
    cv_.wait_for(lock, milliseconds(100));
  }
  lock.unlock();
  thread_.join();
}

kite::Status ContainerdSupervisor::WaitReady(milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (cv_.wait_for(lock, timeout, [&] { return ready_ || stopping_; }) && ready_) return kite::Status::Ok();
  return kite::Status(Code::kUnavailable, problem_.empty() ? "containerd is not ready" : problem_);
}

int ContainerdSupervisor::pid() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pid_;
}

int ContainerdSupervisor::restarts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return restarts_;
}

std::string ContainerdSupervisor::problem() const {
  std::lock_guard<std::mutex> lock(mu_);
  return problem_;
}

int ContainerdSupervisor::Spawn(std::string* error) {
  const std::string binary = FindExecutable(options_.containerd_binary);
  if (binary.empty()) {
    *error = "containerd is not installed: no executable " + options_.containerd_binary + " on PATH";
    return -1;
  }
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<std::string> args = {binary, "--config", paths_.config_file};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int log = open(paths_.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) {
    *error = "cannot open " + paths_.log_file + ": " + strerror(errno);
    return -1;
  }
  const int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // Its own session: a Ctrl-C on the agent's terminal reaches the agent, which stops
    // containerd in order. Killed with the thread that started it (the supervision thread lives
    // as long as the agent), so a crashed agent leaves no containerd holding the socket.
    setsid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    // The agent blocks SIGTERM/SIGINT and ignores SIGPIPE (base/stop_signals.h); exec keeps both.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(log, 1);
    dup2(log, 2);
    close_range(3, ~0U, 0);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const int fork_errno = errno;
  close(log);
  if (devnull >= 0) close(devnull);
  if (pid < 0) {
    *error = std::string("cannot start containerd: fork: ") + strerror(fork_errno);
    return -1;
  }
  return pid;
}

void ContainerdSupervisor::Supervise() {
  // Readiness is CRI answering, not the socket existing: the CRI plugin loads last.
  CriClient probe(endpoint(), {.quick_timeout = std::chrono::seconds(2)});
  milliseconds backoff = options_.backoff_min;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    std::string error;
    lock.unlock();
    const int pid = Spawn(&error);
    lock.lock();
    const auto started = Clock::now();
    if (pid < 0) {
      problem_ = error;
      ++restarts_;
      KITE_LOG(0) << "containerd: " << error;
    } else {
      pid_ = pid;
      cv_.notify_all();  // Stop() may be waiting to signal it
      KITE_LOG(1) << "containerd: started, pid " << pid;
      while (!stopping_ && !ready_) {
        siginfo_t info{};
        if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) break;
        lock.unlock();
        auto version = probe.Version();
        lock.lock();
        // Until it answers, the reason it does not (no socket yet; no CRI service: its plugin
        // failed to load, the log says why).
        if (!version.ok()) problem_ = "containerd does not answer yet: " + version.error().message();
        if (version.ok()) {
          ready_ = true;
          problem_.clear();
          KITE_LOG(0) << "containerd: ready on " << paths_.socket << " (pid " << pid << ", snapshotter " << snapshotter_ << ")";
          cv_.notify_all();
          break;
        }
        cv_.wait_for(lock, milliseconds(50), [&] { return stopping_; });
      }
      // Wait for it to end without reaping it, so pid_ names it (and Stop may signal it) until
      // it is cleared under the lock; only then is the pid released.
      lock.unlock();
      siginfo_t info{};
      while (waitid(P_PID, pid, &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
      }
      lock.lock();
      int wait_status = 0;
      waitpid(pid, &wait_status, 0);
      pid_ = 0;
      ready_ = false;
      cv_.notify_all();
      if (stopping_) break;
      ++restarts_;
      // An exit of its own is explained by its last log line; a signal came from outside.
      const std::string last = WIFEXITED(wait_status) ? LastLogLine(paths_.log_file) : "";
      problem_ = "containerd " + DescribeExit(wait_status) + (last.empty() ? "" : ": " + last);
      KITE_LOG(0) << problem_ << "; restarting it in " << backoff.count() << " ms";
    }
    if (Clock::now() - started >= options_.backoff_reset) backoff = options_.backoff_min;
    cv_.wait_for(lock, backoff, [&] { return stopping_; });
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
  done_ = true;
  if (problem_.empty()) problem_ = "containerd was stopped";
  cv_.notify_all();
}

}  // namespace kite::cri
