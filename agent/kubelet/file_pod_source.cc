#include "agent/kubelet/file_pod_source.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "api/defaults.h"
#include "api/object.h"
#include "api/resources.h"
#include "api/yaml_json.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/pki.h"
#include "base/thread_name.h"

namespace kite::kubelet {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr size_t kMaxManifest = 1 << 20;  // a manifest is a pod, not a file system

std::string ReadSmall(const fs::path& p, bool* too_big) {
  std::ifstream in(p, std::ios::binary);
  std::string text(kMaxManifest + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  *too_big = text.size() > kMaxManifest;
  return text;
}

}  // namespace

FilePodSource::FilePodSource(std::string dir, std::string node_name, std::chrono::milliseconds interval)
    : dir_(std::move(dir)), node_(std::move(node_name)), interval_(interval) {}

FilePodSource::~FilePodSource() { Stop(); }

void FilePodSource::Subscribe(OnChange on_change) { subscribers_.push_back(std::move(on_change)); }

void FilePodSource::Start() {
  Scan();
  inotify_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_ >= 0 &&
      inotify_add_watch(inotify_, dir_.c_str(),
                        IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_MODIFY |
                            IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
    KITE_LOG(0) << "static pods: cannot watch " << dir_ << " (" << std::strerror(errno) << "); reading it every "
                << interval_.count() / 1000 << " s";
    ::close(inotify_);
    inotify_ = -1;
  }
  wake_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] { Watch(); });
}

void FilePodSource::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  const uint64_t one = 1;
  if (wake_ >= 0) (void)!::write(wake_, &one, sizeof one);
  thread_.join();
  if (inotify_ >= 0) ::close(inotify_);
  if (wake_ >= 0) ::close(wake_);
  inotify_ = wake_ = -1;
}

void FilePodSource::Watch() {
  SetThreadName("kubelet-file");
  char buf[4096];
  while (!stop_) {
    pollfd fds[2] = {{wake_, POLLIN, 0}, {inotify_, POLLIN, 0}};
    const int n = ::poll(fds, inotify_ >= 0 ? 2 : 1, static_cast<int>(interval_.count()));
    if (stop_) return;
    if (n > 0 && (fds[1].revents & POLLIN)) {
      while (::read(inotify_, buf, sizeof buf) > 0) {
      }
    }
    Scan();  // on an event, and every interval anyway
  }
}

FilePodSource::PodPtr FilePodSource::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(key);
  return it == pods_.end() ? nullptr : it->second;
}

std::vector<FilePodSource::PodPtr> FilePodSource::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PodPtr> out;
  for (const auto& [key, pod] : pods_) out.push_back(pod);
  return out;
}

Result<json::object> FilePodSource::StaticPod(const std::string& text, const std::string& node) {
  auto v = api::YamlToJson(text);
  if (!v.ok()) return v.error();
  if (!v->is_object()) return Status(Code::kInvalidArgument, "not an object");
  json::object pod = v->as_object();
  if (api::GetString(pod, "kind") != "Pod" || api::GetString(pod, "apiVersion") != "v1") {
    return Status(Code::kInvalidArgument, "not a v1 Pod");
  }
  const std::string name = api::GetString(pod, {"metadata", "name"});
  if (name.empty()) return Status(Code::kInvalidArgument, "metadata.name: Required value");
  if (!pod["spec"].is_object()) return Status(Code::kInvalidArgument, "spec: Required value");
  json::object& meta = pod["metadata"].as_object();
  meta["name"] = name + "-" + node;
  if (api::GetString(meta, "namespace").empty()) meta["namespace"] = "default";
  for (const char* k : {"resourceVersion", "generateName", "creationTimestamp", "deletionTimestamp",
                        "deletionGracePeriodSeconds", "managedFields"}) {
    meta.erase(k);
  }
  // The manifest and the node: what makes this pod this pod (upstream hashes the decoded pod and
  // its source the same way).
  const std::string hash = pki::Sha256Hex(node + "\n" + text).substr(0, 32);
  meta["uid"] = hash;
  if (!meta["annotations"].is_object()) meta["annotations"] = json::object{};
  json::object& ann = meta["annotations"].as_object();
  ann["kubernetes.io/config.source"] = "file";
  ann["kubernetes.io/config.hash"] = hash;
  pod["spec"].as_object()["nodeName"] = node;
  // The fields the API server would have filled in (restartPolicy, dnsPolicy, imagePullPolicy…):
  // the pod runs as its mirror pod reads. No status: the kubelet's is the only one.
  api::ApplyDefaults(*api::FindResource("", "v1", "pods"), pod);
  pod.erase("status");
  return pod;
}

void FilePodSource::Scan() {
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string f = it->path().filename().string();
    if (f.starts_with(".") || !kite::files::IsRegularFile(it->path())) continue;
    if (f.ends_with(".yaml") || f.ends_with(".yml") || f.ends_with(".json")) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  std::map<std::string, PodPtr> now;
  for (const auto& f : files) {
    bool too_big = false;
    const std::string text = ReadSmall(f, &too_big);
    auto pod = too_big ? Result<json::object>(Status(Code::kInvalidArgument, "over 1 MiB")) : StaticPod(text, node_);
    const std::string file = f.filename().string();
    std::string key;
    if (pod.ok()) {
      key = api::Namespace(*pod) + "/" + api::Name(*pod);
      if (now.contains(key)) pod = Status(Code::kAlreadyExists, "another manifest already makes pod " + key);
    }
    if (!pod.ok()) {
      if (bad_[file] != pod.error().message()) {
        KITE_LOG(0) << "static pods: " << f.string() << ": " << pod.error().message() << " (skipped)";
        bad_[file] = pod.error().message();
      }
      continue;
    }
    bad_.erase(file);
    now[key] = std::make_shared<const json::object>(std::move(*pod));
  }
  for (auto it = bad_.begin(); it != bad_.end();) {  // files gone: their error may be logged again
    it = std::find_if(files.begin(), files.end(), [&](const fs::path& p) { return p.filename() == it->first; }) == files.end()
             ? bad_.erase(it)
             : std::next(it);
  }

  std::vector<std::pair<std::string, PodPtr>> changed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, pod] : now) {
      auto old = pods_.find(key);
      if (old == pods_.end() || api::Uid(*old->second) != api::Uid(*pod)) changed.emplace_back(key, pod);
    }
    for (const auto& [key, pod] : pods_) {
      if (!now.contains(key)) changed.emplace_back(key, pod);
    }
    pods_ = std::move(now);
  }
  for (const auto& [key, pod] : changed) {
    KITE_LOG(1) << "static pods: " << key << (Get(key) ? " from " + dir_ : " removed") << " (uid " << api::Uid(*pod) << ")";
    for (const auto& s : subscribers_) s(key, pod);
  }
}

}  // namespace kite::kubelet
