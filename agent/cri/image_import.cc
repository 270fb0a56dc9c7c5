#include "agent/cri/image_import.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "base/fs.h"
#include "base/log.h"

extern char** environ;

namespace kite::cri {

namespace fs = std::filesystem;

namespace {

// ---- processes --------------------------------------------------------------------------------

std::vector<char*> Argv(const std::vector<std::string>& args) {
  std::vector<char*> v;
  for (const auto& a : args) v.push_back(const_cast<char*>(a.c_str()));
  v.push_back(nullptr);
  return v;
}

// Spawns argv with stdin from `in_fd` (-1: /dev/null), stdout into `out_fd`, stderr into `err_fd`.
Result<pid_t> Spawn(const std::vector<std::string>& argv, int in_fd, int out_fd, int err_fd) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (in_fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  pid_t pid = -1;
  auto args = Argv(argv);
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Status(Code::kFailedPrecondition, "cannot run " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

// How a child ended, "" when it exited 0.
std::string Wait(pid_t pid, const std::string& name) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return name + ": waitpid: " + std::strerror(errno);
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status) == 0 ? "" : name + " exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return name + " killed by signal " + std::to_string(WTERMSIG(status));
  return name + " ended abnormally";
}

std::string LastLine(std::string_view out) {
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.remove_suffix(1);
  auto nl = out.rfind('\n');
  return std::string(nl == std::string_view::npos ? out : out.substr(nl + 1));
}

// ---- archives ---------------------------------------------------------------------------------

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The decompressor for an archive's name ({} for a plain tarball), nullopt when the file is not
// an archive this importer takes.
std::optional<std::vector<std::string>> Decompressor(const std::string& name) {
  if (name.empty() || name[0] == '.' || name.find_first_of("\n\t") != std::string::npos) return std::nullopt;
  if (EndsWith(name, ".tar")) return std::vector<std::string>{};
  if (EndsWith(name, ".tar.gz") || EndsWith(name, ".tgz")) return std::vector<std::string>{"gzip", "-dc"};
  if (EndsWith(name, ".tar.zst") || EndsWith(name, ".tzst")) return std::vector<std::string>{"zstd", "-dcq"};
  return std::nullopt;
}

// ctr prints "unpacking <name> (sha256:...)...done" for each image it created.
std::vector<std::string> ImportedNames(std::string_view out) {
  std::vector<std::string> names;
  constexpr std::string_view kPrefix = "unpacking ";
  size_t pos = 0;
  while ((pos = out.find(kPrefix, pos)) != std::string_view::npos) {
    if (pos != 0 && out[pos - 1] != '\n') {
      pos += kPrefix.size();
      continue;
    }
    size_t start = pos + kPrefix.size();
    size_t end = out.find(" (", start);
    size_t nl = out.find('\n', start);
    if (end == std::string_view::npos || (nl != std::string_view::npos && end > nl)) break;
    names.emplace_back(out.substr(start, end - start));
    pos = end;
  }
  return names;
}

constexpr std::string_view kStateHeader = "kite image import state v1";

}  // namespace

Result<std::string> RunCommand(const std::vector<std::string>& argv, const std::vector<std::string>& stdin_from) {
  if (argv.empty()) return Status(Code::kInvalidArgument, "no command");
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return Status(Code::kInternal, std::string("pipe: ") + std::strerror(errno));
  int feed[2] = {-1, -1};
  pid_t feeder = -1;
  if (!stdin_from.empty()) {
    if (pipe2(feed, O_CLOEXEC) != 0) {
      close(out[0]);
      close(out[1]);
      return Status(Code::kInternal, std::string("pipe: ") + std::strerror(errno));
    }
    // The decompressor's complaints go with ctr's output, where the reason is taken from.
    auto f = Spawn(stdin_from, -1, feed[1], out[1]);
    close(feed[1]);
    if (!f.ok()) {
      close(feed[0]);
      close(out[0]);
      close(out[1]);
      return f.status();
    }
    feeder = *f;
  }
  auto child = Spawn(argv, feed[0], out[1], out[1]);
  if (feed[0] >= 0) close(feed[0]);
  close(out[1]);
  std::string output;
  if (child.ok()) {
    char buf[4096];
    for (;;) {
      ssize_t n = read(out[0], buf, sizeof buf);
      if (n > 0) {
        // Bounded: ctr's progress lines for a big archive stay small, but never grow without end.
        if (output.size() < (1u << 20)) output.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      break;
    }
  }
  close(out[0]);
  std::string feeder_end = feeder > 0 ? Wait(feeder, stdin_from[0]) : "";
  if (!child.ok()) return child.status();
  std::string end = Wait(*child, argv[0]);
  if (end.empty() && feeder_end.empty()) return output;
  std::string why = LastLine(output);
  if (why.empty()) why = end;
  if (!feeder_end.empty()) why = feeder_end + (why.empty() ? "" : "; " + why);
  return Status(Code::kUnknown, why);
}

ImageImporter::ImageImporter(ImageImporterOptions options) : opts_(std::move(options)) {}

ImageImporter::~ImageImporter() { Stop(); }

void ImageImporter::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] { Run(); });
}

void ImageImporter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (wake_fd_ >= 0) {
      uint64_t one = 1;
      (void)!write(wake_fd_, &one, sizeof one);
    }
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  if (wake_fd_ >= 0) close(wake_fd_);
  wake_fd_ = -1;
}

bool ImageImporter::WaitInitialImport(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return initial_done_; });
}

bool ImageImporter::initial_import_done() const {
  std::lock_guard<std::mutex> lock(mu_);
  return initial_done_;
}

void ImageImporter::MarkInitialDone() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (initial_done_) return;
    initial_done_ = true;
  }
  cv_.notify_all();
}

void ImageImporter::LoadState() {
  std::ifstream in(opts_.state_file);
  if (!in) return;
  std::string line;
  if (!std::getline(in, line) || line != kStateHeader) {
    KITE_LOG(0) << "image import: " << opts_.state_file << " is not a state file; importing every archive again";
    return;
  }
  // "<size> <mtime_ns> <image,image|-> <file name>"
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    Seen s;
    std::string images;
    if (!(ls >> s.size >> s.mtime_ns >> images)) continue;
    std::string name;
    std::getline(ls >> std::ws, name);
    if (name.empty()) continue;
    if (images != "-") {
      std::stringstream is(images);
      for (std::string ref; std::getline(is, ref, ',');) {
        if (!ref.empty()) s.images.push_back(ref);
      }
    }
    imported_[name] = std::move(s);
  }
}

Status ImageImporter::SaveState() {
  std::string tmp = opts_.state_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Status(Code::kInternal, "cannot write " + tmp + ": " + std::strerror(errno));
    out << kStateHeader << "\n";
    for (const auto& [name, s] : imported_) {
      std::string images;
      for (const auto& r : s.images) images += (images.empty() ? "" : ",") + r;
      out << s.size << " " << s.mtime_ns << " " << (images.empty() ? "-" : images) << " " << name << "\n";
    }
    out.flush();
    if (!out) return Status(Code::kInternal, "cannot write " + tmp);
  }
  // Losing this file costs one re-import, never an image: no fsync (flash wear), just an atomic
  // replace so it is never half written.
  std::error_code ec;
  fs::rename(tmp, opts_.state_file, ec);
  if (ec) return Status(Code::kInternal, "cannot replace " + opts_.state_file + ": " + ec.message());
  return Status::Ok();
}

Result<std::vector<std::string>> ImageImporter::ImportFile(const std::string& name) {
  auto decompressor = Decompressor(name);
  const std::string path = opts_.images_dir + "/" + name;
  std::vector<std::string> argv{opts_.ctr, "--address", opts_.containerd_address, "-n", opts_.containerd_namespace,
                                "images", "import"};
  if (!opts_.snapshotter.empty()) {
    argv.push_back("--snapshotter");
    argv.push_back(opts_.snapshotter);
  }
  std::vector<std::string> feed;
  if (decompressor && !decompressor->empty()) {
    feed = *decompressor;
    feed.push_back(path);
    argv.push_back("-");
  } else {
    argv.push_back(path);
  }
  const CommandRunner& run = opts_.runner ? opts_.runner : CommandRunner(RunCommand);
  auto out = run(argv, feed);
  if (!out.ok()) return out.status();
  auto names = ImportedNames(*out);
  if (names.empty()) return Status(Code::kInvalidArgument, "the archive holds no named image");
  return names;
}

Result<std::vector<ImageImporter::Outcome>> ImageImporter::ImportOnce() {
  std::lock_guard<std::mutex> pass(pass_mu_);
  if (!loaded_) {
    LoadState();
    loaded_ = true;
  }
  // The archives now in the directory.
  std::map<std::string, Seen> present;
  std::error_code ec;
  for (fs::directory_iterator it(opts_.images_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!Decompressor(name)) continue;
    struct stat st{};
    if (stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    Seen s;
    s.size = static_cast<int64_t>(st.st_size);
    s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    present.emplace(std::move(name), s);
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status(Code::kFailedPrecondition, "image import: cannot list " + opts_.images_dir + ": " + ec.message());
  }

  const CommandRunner& run = opts_.runner ? opts_.runner : CommandRunner(RunCommand);
  // After a restart, check once that what the state file remembers is still in containerd.
  std::set<std::string> missing;
  if (!verified_ && !present.empty()) {
    auto listed = run({opts_.ctr, "--address", opts_.containerd_address, "-n", opts_.containerd_namespace, "images",
                       "ls", "-q"},
                      {});
    if (!listed.ok()) return Status(Code::kUnavailable, "image import: containerd: " + listed.status().message());
    std::set<std::string> have;
    std::istringstream ls(*listed);
    for (std::string l; std::getline(ls, l);) have.insert(l);
    for (const auto& [name, s] : imported_) {
      for (const auto& ref : s.images) {
        if (!have.contains(ref)) missing.insert(name);
      }
    }
    verified_ = true;
  }

  std::vector<Outcome> outcomes;
  bool changed = false;
  for (const auto& [name, s] : present) {
    auto done = imported_.find(name);
    if (done != imported_.end() && done->second == s && !missing.contains(name)) continue;
    if (auto f = failed_.find(name); f != failed_.end() && f->second == s) continue;
    Outcome o{name, Status::Ok(), {}};
    auto images = ImportFile(name);
    if (images.ok()) {
      Seen rec = s;
      rec.images = *images;
      o.images = std::move(*images);
      imported_[name] = std::move(rec);
      failed_.erase(name);
      changed = true;
      std::string list;
      for (const auto& r : o.images) list += (list.empty() ? "" : ", ") + r;
      KITE_LOG(0) << "image import: " << name << ": imported " << list;
    } else {
      // containerd gone mid-pass (restarted by its supervisor): not this archive's fault, so
      // nothing is held against it; keep what was imported and try again later.
      auto alive = run({opts_.ctr, "--address", opts_.containerd_address, "version"}, {});
      if (!alive.ok()) {
        if (changed) {
          if (Status st = SaveState(); !st.ok()) KITE_LOG(0) << "image import: " << st.message();
        }
        return Status(Code::kUnavailable, "image import: containerd: " + alive.status().message());
      }
      o.status = images.status();
      failed_[name] = s;
      KITE_LOG(0) << "image import: " << name << ": failed: " << o.status.message();
    }
    outcomes.push_back(std::move(o));
  }
  // Forget removed archives (their images stay in containerd; the image GC owns them).
  for (auto it = imported_.begin(); it != imported_.end();) {
    if (present.contains(it->first)) {
      ++it;
    } else {
      it = imported_.erase(it);
      changed = true;
    }
  }
  std::erase_if(failed_, [&](const auto& kv) { return !present.contains(kv.first); });
  if (changed) {
    if (Status s = SaveState(); !s.ok()) KITE_LOG(0) << "image import: " << s.message();
  }
  return outcomes;
}

void ImageImporter::Run() {
  {
    std::lock_guard<std::mutex> pass(pass_mu_);
    std::error_code ec;
    files::CreateDirectories(opts_.images_dir, ec);
    if (ec) KITE_LOG(0) << "image import: cannot create " << opts_.images_dir << ": " << ec.message();
  }
  int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ino >= 0 && inotify_add_watch(ino, opts_.images_dir.c_str(),
                                    IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR) < 0) {
    KITE_LOG(0) << "image import: cannot watch " << opts_.images_dir << " (" << std::strerror(errno)
                << "); rescanning every " << opts_.rescan_interval.count() << " ms";
    close(ino);
    ino = -1;
  }
  auto retry = std::chrono::milliseconds(200);
  bool dirty = true;  // a pass is due
  bool unreachable_logged = false;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    std::chrono::milliseconds wait = opts_.rescan_interval;
    if (dirty) {
      auto r = ImportOnce();
      if (r.ok()) {
        dirty = false;
        unreachable_logged = false;
        retry = std::chrono::milliseconds(200);
        MarkInitialDone();
      } else {
        // containerd not (yet) up: try again soon, backing off to the rescan interval.
        if (!unreachable_logged) KITE_LOG(0) << r.status().message() << "; retrying";
        unreachable_logged = true;
        wait = retry;
        retry = std::min(retry * 2, opts_.rescan_interval);
      }
    }
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {ino, POLLIN, 0}};
    int n = poll(fds, ino >= 0 ? 2 : 1, static_cast<int>(wait.count()));
    if (n == 0) {
      dirty = true;  // the periodic rescan: a stat per file, cheap
      continue;
    }
    if (n < 0) continue;
    if (fds[0].revents) continue;  // Stop(): the loop's check ends it
    if (ino >= 0 && fds[1].revents) {
      alignas(inotify_event) char buf[4096];
      while (read(ino, buf, sizeof buf) > 0) {
      }
      dirty = true;
    }
  }
  if (ino >= 0) close(ino);
}

Result<std::optional<Image>> ImportAwareImageService::ImageStatus(const ImageSpec& image) {
  auto status = images_->ImageStatus(image);
  if (!status.ok() || status->has_value() || importer_->initial_import_done()) return status;
  if (!importer_->WaitInitialImport(max_wait_)) {
    KITE_LOG(1) << "image import: still importing after " << max_wait_.count() << " ms; " << image.image
                << " reported absent";
  }
  return images_->ImageStatus(image);
}

}  // namespace kite::cri
