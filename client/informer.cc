#include "client/informer.h"

#include <boost/json.hpp>

#include <algorithm>
#include <mutex>
#include <random>
#include <unordered_map>

#include "api/labels.h"
#include "base/log.h"
#include "base/thread_name.h"

namespace kite::client {
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// Cached objects drop metadata.managedFields, as upstream's scheduler and controller-manager
// informers do: no controller reads them, an update without them keeps the stored ones, and they
// are often the largest part of a small object.
void StripManagedFields(json::object& o) {
  if (auto* m = o.if_contains("metadata"); m && m->is_object()) m->as_object().erase("managedFields");
}

// One immutable copy per object version for the whole process. Inside kite-server the
// controller manager's and the scheduler's informers (separate factories: each runs only while
// it holds its own lease) receive every pod and node; without this each kept its own decoded
// copy (sharing took kite-server from 290 to 225 MiB at 1,000 nodes and 10k pods). Objects are keyed by uid, resourceVersion, apiVersion and kind,
// which name one content (every informer strips managedFields the same way); the table holds
// weak references, so an object lives exactly as long as some informer or handler holds it.
class SharedObjects {
 public:
  static ObjectPtr Intern(json::object&& o) {
    const json::object& m = api::Metadata(o);
    const auto* uid = m.if_contains("uid");
    const auto* rv = m.if_contains("resourceVersion");
    if (!uid || !uid->is_string() || !rv || !rv->is_string()) return std::make_shared<const json::object>(std::move(o));
    // One stored object is served in several versions (events in core/v1 and events.k8s.io/v1,
    // HPAs in autoscaling/v1 and v2) with the same uid and resourceVersion: the version and kind
    // (set on every cached object) are part of the key.
    const auto* api_version = o.if_contains("apiVersion");
    const auto* kind = o.if_contains("kind");
    if (!api_version || !api_version->is_string() || !kind || !kind->is_string()) {
      return std::make_shared<const json::object>(std::move(o));
    }
    std::string key(uid->get_string());
    key += '/';
    key += rv->get_string();
    key += '/';
    key += api_version->get_string();
    key += '/';
    key += kind->get_string();
    static SharedObjects table;
    std::lock_guard<std::mutex> lock(table.mu_);
    std::weak_ptr<const json::object>& slot = table.objects_[std::move(key)];
    if (ObjectPtr live = slot.lock()) return live;
    ObjectPtr fresh = std::make_shared<const json::object>(std::move(o));
    slot = fresh;
    // Forget dead entries once as many inserts happened as there are entries (amortised O(1)).
    if (++table.inserts_ > std::max<size_t>(4096, table.objects_.size())) {
      table.inserts_ = 0;
      std::erase_if(table.objects_, [](const auto& kv) { return kv.second.expired(); });
    }
    return fresh;
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::weak_ptr<const json::object>> objects_;
  size_t inserts_ = 0;
};

// The last few watch lines decoded in this process, with the cached object each became. Inside
// kite-server the scheduler's and the controller manager's pod informers receive the very same
// line for every pod event; the second finds the first one's object here instead of decoding the
// line again (decoding was about a fifth of the CPU of an informer-heavy workload). A line names
// one object version, so equal text means equal content; the resource is part of the key, since
// the cached object carries the informer's apiVersion and kind. Holds weak references and at
// most kMaxLines lines (of at most kMaxLineBytes each), the oldest dropped first.
class RecentLines {
 public:
  // The object an add or update line became, if it is still alive.
  static ObjectPtr Find(const std::string& resource, std::string_view line) {
    if (line.size() > kMaxLineBytes) return nullptr;
    RecentLines& t = Table();
    const std::string key = Key(resource, line);
    std::lock_guard<std::mutex> lock(t.mu_);
    auto it = t.lines_.find(key);
    return it == t.lines_.end() ? nullptr : it->second.lock();
  }
  static void Remember(const std::string& resource, std::string_view line, const ObjectPtr& object) {
    if (line.size() > kMaxLineBytes) return;
    RecentLines& t = Table();
    std::string key = Key(resource, line);
    std::lock_guard<std::mutex> lock(t.mu_);
    auto [it, fresh] = t.lines_.try_emplace(std::move(key), object);
    if (!fresh) return;
    t.order_.push_back(it);
    if (t.order_.size() > kMaxLines) {
      t.lines_.erase(t.order_.front());
      t.order_.pop_front();
    }
  }

 private:
  static constexpr size_t kMaxLines = 64;
  static constexpr size_t kMaxLineBytes = 32 * 1024;  // a pod is 2-5 KiB, a node 5-30 KiB
  using Entry = std::weak_ptr<const json::object>;
  // Buckets for every entry up front: the map never rehashes, so order_'s iterators stay valid.
  RecentLines() { lines_.reserve(kMaxLines + 1); }
  static RecentLines& Table() {
    static RecentLines table;
    return table;
  }
  static std::string Key(const std::string& resource, std::string_view line) {
    std::string key;
    key.reserve(resource.size() + 1 + line.size());
    key.append(resource).append(1, '\n').append(line);  // a line never holds a raw newline
    return key;
  }
  std::mutex mu_;
  std::unordered_map<std::string, Entry> lines_;
  std::deque<std::unordered_map<std::string, Entry>::iterator> order_;  // oldest first
};

}  // namespace

ObjectPtr Informer::Get(const std::string& ns, const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = items_.find(resource_.namespaced ? ns + "/" + name : name);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Informer::List(const std::string& ns) const {
  std::vector<ObjectPtr> out;
  std::shared_lock lock(mu_);
  if (ns.empty() || !resource_.namespaced) {
    out.reserve(items_.size());
    for (const auto& [k, v] : items_) out.push_back(v);
    return out;
  }
  const std::string prefix = ns + "/";
  for (auto it = items_.lower_bound(prefix); it != items_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::vector<ObjectPtr> Informer::List(const std::string& ns, const std::string& selector) const {
  auto all = List(ns);
  if (selector.empty()) return all;
  auto sel = api::LabelSelector::Parse(selector);
  if (!sel.ok()) return {};
  std::vector<ObjectPtr> out;
  static const json::object kNoLabels;
  for (auto& o : all) {
    const auto& m = api::Metadata(*o);
    const auto* l = m.if_contains("labels");
    if (sel->Matches(l && l->is_object() ? l->as_object() : kNoLabels)) out.push_back(std::move(o));
  }
  return out;
}

size_t Informer::Size() const {
  std::shared_lock lock(mu_);
  return items_.size();
}

void Informer::AddHandler(EventHandler h) {
  std::lock_guard<std::mutex> lock(handlers_mu_);
  handlers_.push_back(std::move(h));
}

std::string Informer::LastResourceVersion() const {
  std::shared_lock lock(mu_);
  return rv_;
}

void Informer::Dispatch(const ObjectPtr& old_obj, const ObjectPtr& new_obj) {
  std::lock_guard<std::mutex> lock(handlers_mu_);
  for (const auto& h : handlers_) {
    if (old_obj && new_obj) {
      if (h.on_update) h.on_update(old_obj, new_obj);
    } else if (new_obj) {
      if (h.on_add) h.on_add(new_obj);
    } else if (old_obj) {
      if (h.on_delete) h.on_delete(old_obj);
    }
  }
}

void Informer::Relist() {
  const Client* client = factory_->client();
  auto res = client->List(resource_, "");
  if (!res.ok()) {
    int n = std::min(failures_++, 5);
    KITE_LOG(1) << "informer " << resource_.resource << ": list failed: " << res.error().message();
    factory_->Schedule(this, std::chrono::milliseconds(200 << n));
    return;
  }
  failures_ = 0;
  json::object& list = res.value();
  std::map<std::string, ObjectPtr> fresh;
  const std::string kind = resource_.kind, api_version = resource_.group_version();
  if (auto* items = list.if_contains("items"); items && items->is_array()) {
    for (auto& item : items->as_array()) {
      if (!item.is_object()) continue;
      auto& o = item.as_object();
      // List items come without apiVersion/kind; put them back so cached objects are whole.
      o["apiVersion"] = api_version;
      o["kind"] = kind;
      StripManagedFields(o);
      std::string key = Key(o);
      fresh.emplace(std::move(key), SharedObjects::Intern(std::move(o)));
    }
  }
  std::vector<std::pair<ObjectPtr, ObjectPtr>> changes;
  {
    std::unique_lock lock(mu_);
    for (const auto& [k, v] : fresh) {
      auto it = items_.find(k);
      if (it == items_.end()) changes.emplace_back(nullptr, v);
      else if (api::ResourceVersion(*it->second) != api::ResourceVersion(*v)) changes.emplace_back(it->second, v);
    }
    for (const auto& [k, v] : items_) {
      if (!fresh.count(k)) changes.emplace_back(v, nullptr);
    }
    items_ = std::move(fresh);
    rv_ = api::ResourceVersion(list);
    ++generation_;
  }
  for (const auto& [o, n] : changes) Dispatch(o, n);
  synced_ = true;
  relist_needed_ = false;
  StartWatch();
}

void Informer::StartWatch() {
  uint64_t generation;
  ListParams p;
  {
    // A new generation: callbacks still in flight from the stream this one replaces are ignored.
    std::unique_lock lock(mu_);
    generation = ++generation_;
    p.resource_version = rv_;
  }
  static thread_local std::mt19937 rng{std::random_device{}()};
  // As client-go: a random timeout between 5 and 10 minutes spreads the re-watches out.
  p.timeout_seconds = 300 + static_cast<int64_t>(rng() % 300);
  p.allow_bookmarks = true;
  auto stream = factory_->client()->WatchLines(
      resource_, "", p, [this, generation](std::string_view line) { OnLine(line, generation); },
      [this, generation](Status e) { OnEnd(std::move(e), generation); });
  std::unique_ptr<WatchStream> old;
  {
    std::unique_lock lock(mu_);
    old = std::move(watch_);
    watch_ = std::move(stream);
  }
  // `old` (already ended or superseded) is stopped here, outside the lock.
}

void Informer::OnLine(std::string_view line, uint64_t generation) {
  if (ObjectPtr known = RecentLines::Find(resource_id_, line)) {
    Apply(known, generation);
    return;
  }
  auto ev = Client::ParseWatchEvent(line);
  if (!ev) return;
  std::string type = ev->type;
  // Only adds and updates: a delete's cached object is the last state this informer saw, whose
  // resourceVersion is older than the event's.
  ObjectPtr cached = OnEvent(std::move(*ev), generation);
  if (cached && (type == "ADDED" || type == "MODIFIED")) RecentLines::Remember(resource_id_, line, cached);
}

void Informer::Apply(const ObjectPtr& obj, uint64_t generation) {
  ObjectPtr old_obj;
  {
    std::unique_lock lock(mu_);
    if (generation != generation_) return;
    if (std::string rv = api::ResourceVersion(*obj); !rv.empty()) rv_ = std::move(rv);
    std::string key = Key(*obj);
    auto it = items_.find(key);
    if (it != items_.end()) {
      old_obj = std::exchange(it->second, obj);
    } else {
      items_.emplace(std::move(key), obj);
    }
  }
  Dispatch(old_obj, obj);
}

ObjectPtr Informer::OnEvent(WatchEvent ev, uint64_t generation) {
  ObjectPtr old_obj, new_obj;
  {
    std::unique_lock lock(mu_);
    if (generation != generation_) return nullptr;
    if (ev.type == "ERROR") {
      // Usually 410 Expired: the cache no longer holds our resourceVersion. Start over.
      ++generation_;
      lock.unlock();
      relist_needed_ = true;
      factory_->Schedule(this, 0ms);
      return nullptr;
    }
    std::string rv = api::ResourceVersion(ev.object);
    if (!rv.empty()) rv_ = rv;
    if (ev.type == "BOOKMARK") return nullptr;
    ev.object["apiVersion"] = resource_.group_version();
    ev.object["kind"] = resource_.kind;
    StripManagedFields(ev.object);
    std::string key = Key(ev.object);
    auto it = items_.find(key);
    if (ev.type == "DELETED") {
      if (it == items_.end()) return nullptr;
      old_obj = it->second;
      items_.erase(it);
    } else {
      new_obj = SharedObjects::Intern(std::move(ev.object));
      if (it != items_.end()) {
        old_obj = it->second;
        it->second = new_obj;
      } else {
        items_.emplace(std::move(key), new_obj);
      }
    }
  }
  if (old_obj && !new_obj) {
    // Deletes hand handlers the last state seen.
    Dispatch(old_obj, nullptr);
  } else {
    Dispatch(old_obj, new_obj);
  }
  return new_obj;
}

void Informer::OnEnd(Status e, uint64_t generation) {
  {
    std::shared_lock lock(mu_);
    if (generation != generation_) return;
  }
  if (!e.ok()) {
    KITE_LOG(1) << "informer " << resource_.resource << ": watch ended: " << e.http_code() << " " << e.message();
    relist_needed_ = true;
    factory_->Schedule(this, 1s);
    return;
  }
  factory_->Schedule(this, 0ms);  // timeoutSeconds ran out: watch again from rv_
}

InformerFactory::InformerFactory(const Client* client) : client_(client) {}

InformerFactory::~InformerFactory() { Stop(); }

Informer* InformerFactory::For(const api::ResourceInfo& r) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string id = r.group + "/" + r.version + "/" + r.resource;
  auto it = informers_.find(id);
  if (it != informers_.end()) return it->second.get();
  auto* inf = new Informer(this, r);
  informers_.emplace(id, std::unique_ptr<Informer>(inf));
  if (started_) {
    pending_.emplace(std::chrono::steady_clock::now(), inf);
    cv_.notify_all();
  }
  return inf;
}

Informer* InformerFactory::For(const std::string& group, const std::string& version, const std::string& resource) {
  const api::ResourceInfo* r = api::FindResource(group, version, resource);
  if (!r) return nullptr;
  return For(*r);
}

void InformerFactory::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopping_) return;  // a Stop that came first wins: no thread is left unjoined
  started_ = true;
  for (auto& [id, inf] : informers_) pending_.emplace(std::chrono::steady_clock::now(), inf.get());
  thread_ = std::thread([this] {
    SetThreadName("informers");
    Run();
  });
}

void InformerFactory::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Stop every stream before the informers go (their callbacks point at them).
  std::vector<std::unique_ptr<WatchStream>> streams;
  for (auto& [id, inf] : informers_) {
    std::unique_lock lock(inf->mu_);
    ++inf->generation_;
    streams.push_back(std::move(inf->watch_));
  }
  streams.clear();
}

bool InformerFactory::WaitForSync(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    bool all = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return false;
      for (auto& [id, inf] : informers_) all = all && inf->HasSynced();
    }
    if (all) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

void InformerFactory::Schedule(Informer* inf, std::chrono::milliseconds delay) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    pending_.emplace(std::chrono::steady_clock::now() + delay, inf);
  }
  cv_.notify_all();
}

void InformerFactory::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (pending_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto due = pending_.begin()->first;
    if (due > std::chrono::steady_clock::now()) {
      cv_.wait_until(lock, due);
      continue;
    }
    Informer* inf = pending_.begin()->second;
    pending_.erase(pending_.begin());
    lock.unlock();
    if (!inf->HasSynced() || inf->relist_needed_) inf->Relist();
    else inf->StartWatch();
    lock.lock();
  }
}

}  // namespace kite::client
