#include "addons/manifests/deployer.h"

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "api/object.h"
#include "api/resources.h"
#include "base/atomic_file.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/pki.h"
#include "client/client.h"

namespace kite::addons {
namespace fs = std::filesystem;
namespace {

constexpr char kFieldManager[] = "kite-deploy";

bool IsManifest(const std::string& name) {
  for (const char* ext : {".yaml", ".yml", ".json"}) {
    if (name.size() > std::string_view(ext).size() && name.ends_with(ext)) return true;
  }
  return false;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const api::ResourceInfo* ResourceOf(const boost::json::object& obj) {
  const std::string api_version = api::GetString(obj, "apiVersion"), kind = api::GetString(obj, "kind");
  const size_t slash = api_version.find('/');
  const std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  const std::string version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
  for (const auto& info : api::BuiltinResources()) {
    if (info.group == group && info.version == version && info.kind == kind) return &info;
  }
  return nullptr;
}

}  // namespace

Status WritePackagedManifests(const std::string& dir, const AddonOptions& o) {
  auto manifests = PackagedManifests(o);
  if (!manifests.ok()) return manifests.status();
  std::error_code ec;
  files::CreateDirectories(dir, ec);
  if (ec) return Status(Code::kInternal, dir + ": " + ec.message());
  for (const auto& m : *manifests) {
    const fs::path file = fs::path(dir) / (m.name + ".yaml");
    if (!m.enabled) {
      fs::remove(file, ec);
      continue;
    }
    if (fs::exists(file.string() + ".skip")) continue;
    if (auto w = WriteFileIfChanged(file.string(), m.text, 0600); !w.ok()) return w.status();
  }
  return Status::Ok();
}

ManifestDeployer::ManifestDeployer(std::shared_ptr<client::Transport> transport, DeployerOptions o)
    : transport_(std::move(transport)), o_(std::move(o)) {
  LoadState();
}

std::unique_ptr<ManifestDeployer> ManifestDeployer::Start(std::shared_ptr<client::Transport> transport,
                                                          DeployerOptions o) {
  auto d = std::make_unique<ManifestDeployer>(std::move(transport), std::move(o));
  if (auto s = d->SyncOnce(); !s.ok()) KITE_LOG(0) << "deploy: " << s.message();
  d->thread_ = std::jthread([self = d.get()](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    for (;;) {
      std::unique_lock lock(mu);
      if (cv.wait_for(lock, stop, self->o_.interval, [] { return false; }); stop.stop_requested()) return;
      lock.unlock();
      if (auto s = self->SyncOnce(); !s.ok()) KITE_LOG(1) << "deploy: " << s.message();
    }
  });
  return d;
}

ManifestDeployer::~ManifestDeployer() { Stop(); }

void ManifestDeployer::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void ManifestDeployer::LoadState() {
  std::ifstream in(o_.state_file);
  std::string sum, name;
  while (in >> sum && std::getline(in >> std::ws, name)) applied_sums_[name] = sum;
}

void ManifestDeployer::SaveState() {
  std::ostringstream out;
  for (const auto& [name, sum] : applied_sums_) out << sum << ' ' << name << '\n';
  if (auto w = WriteFileIfChanged(o_.state_file, out.str(), 0600); !w.ok()) {
    KITE_LOG(0) << "deploy: " << o_.state_file << ": " << w.status().message();
  }
}

Status ManifestDeployer::Apply(const boost::json::object& in, bool only_if_missing) {
  const api::ResourceInfo* r = ResourceOf(in);
  const std::string what = api::GetString(in, "kind") + " " + api::Name(in);
  if (!r) return Status(Code::kInvalidArgument, "unknown kind " + api::GetString(in, "apiVersion") + " " + what);
  if (api::Name(in).empty()) return Status(Code::kInvalidArgument, api::GetString(in, "kind") + " without a name");
  boost::json::object obj = in;
  std::string ns = r->namespaced ? api::Namespace(obj) : "";
  if (r->namespaced && ns.empty()) {
    ns = "default";
    api::MutableObject(obj, "metadata")["namespace"] = ns;
  }
  const client::Client c(transport_);
  if (only_if_missing) {
    auto got = c.Get(*r, ns, api::Name(obj));
    if (got.ok()) return Status::Ok();
    if (!got.status().IsNotFound()) return got.status().Annotate(what);
  }
  // Server-side apply, forced: the file is the truth for the fields it sets (k3s's behaviour).
  client::Request req;
  req.method = "PATCH";
  req.path = client::Client::Path(*r, ns, api::Name(obj));
  req.query = {{"fieldManager", kFieldManager}, {"force", "true"}};
  req.content_type = "application/apply-patch+yaml";
  req.body = boost::json::serialize(obj);
  const client::Response resp = transport_->Do(req);
  if (resp.code == 200 || resp.code == 201) {
    if (only_if_missing || resp.code == 201) {
      KITE_LOG(0) << "deploy: created " << what << (ns.empty() ? "" : " in " + ns);
    }
    return Status::Ok();
  }
  std::string message = resp.code == 0 ? resp.error : resp.body;
  if (resp.code != 0) {
    boost::system::error_code jec;
    if (auto v = boost::json::parse(resp.body, jec); !jec && v.is_object()) {
      message = api::GetString(v.as_object(), "message");
    }
  }
  return Status(Code::kInternal, what + ": " + message);
}

Status ManifestDeployer::SyncOnce() {
  Status first = Status::Ok();
  auto note = [&](const Status& s) {
    if (!s.ok() && first.ok()) first = s;
  };
  std::map<std::string, File> seen;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(o_.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!files::IsRegularFile(entry.path()) || !IsManifest(name) || name.starts_with(".")) continue;
    if (fs::exists(entry.path().string() + ".skip")) continue;
    const std::string content = ReadAll(entry.path());
    const std::string sum = pki::Sha256Hex(content);
    File file;
    if (auto it = files_.find(name); it != files_.end() && it->second.checksum == sum) {
      file = std::move(it->second);
    } else {
      auto objects = ParseManifest(content);
      if (!objects.ok()) {
        note(objects.status().Annotate(name));
        continue;
      }
      file.checksum = sum;
      file.objects = std::move(objects.value());
    }
    // Applied before (now or in an earlier run): only what is missing is created again.
    const auto recorded = applied_sums_.find(name);
    const bool unchanged = file.applied || (recorded != applied_sums_.end() && recorded->second == sum);
    bool all = true;
    for (const auto& obj : file.objects) {
      if (Status s = Apply(obj, unchanged); !s.ok()) {
        all = false;
        note(s.Annotate(name));
      }
    }
    if (all && !unchanged) {
      KITE_LOG(0) << "deploy: applied " << name << " (" << file.objects.size() << " objects)";
    }
    file.applied = all || unchanged;
    if (file.applied) applied_sums_[name] = sum;
    seen.emplace(name, std::move(file));
  }
  if (ec) note(Status(Code::kUnavailable, o_.dir + ": " + ec.message()));
  files_ = std::move(seen);
  if (!ec) {
    std::erase_if(applied_sums_, [&](const auto& kv) { return !files_.contains(kv.first); });
  }
  SaveState();
  return first;
}

}  // namespace kite::addons
