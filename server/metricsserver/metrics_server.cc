#include "server/metricsserver/metrics_server.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <vector>

#include "api/fields.h"
#include "api/labels.h"
#include "api/object.h"
#include "api/quantity.h"
#include "api/resources.h"
#include "api/time.h"
#include "base/clock.h"
#include "base/log.h"

namespace kite::metricsserver {
namespace json = boost::json;
namespace {

constexpr const char* kGroupVersion = "metrics.k8s.io/v1beta1";
constexpr int kMaxParallelScrapes = 8;
constexpr std::chrono::milliseconds kMaxScrapeTime{10'000};

// A Go time.Duration as metav1.Duration prints it ("15s", "14.993s", "1m0.5s").
std::string GoDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  if (ms >= 3'600'000) {
    out += std::to_string(ms / 3'600'000) + "h";
    ms %= 3'600'000;
  }
  if (!out.empty() || ms >= 60'000) {
    out += std::to_string(ms / 60'000) + "m";
    ms %= 60'000;
  }
  std::string secs = std::to_string(ms / 1000);
  if (ms % 1000) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms % 1000));
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    secs += f;
  }
  return out + secs + "s";
}

json::object UsageJson(const Usage& u) {
  // metrics-server: CPU as a nano-scaled quantity, memory as a binary-SI byte count.
  auto cpu = api::Quantity::Parse(std::to_string(u.cpu_nanocores) + "n");
  return json::object{{"cpu", cpu.ok() ? cpu->String() : "0"},
                      {"memory", api::Quantity::FromInt(u.memory_bytes, api::Quantity::Format::kBinarySI).String()}};
}

std::string Rfc3339(int64_t ms) {
  return api::FormatTime(api::Timestamp(std::chrono::milliseconds(ms)));
}

json::object MetaOf(const json::object& obj, bool namespaced) {
  const json::object& m = api::Metadata(obj);
  json::object out{{"name", api::GetString(m, "name")}};
  if (namespaced) out["namespace"] = api::GetString(m, "namespace");
  out["creationTimestamp"] = api::NowTime();  // metrics-server stamps the time of the answer
  if (const auto* labels = api::FindObject(m, "labels"); labels && !labels->empty()) out["labels"] = *labels;
  return out;
}

// Label and field selectors of a list; the fields metrics-server accepts.
struct Selection {
  api::LabelSelector labels;
  api::FieldSelector fields;
};
Result<Selection> ParseSelection(const MetricsRequest& r) {
  Selection s;
  auto l = api::LabelSelector::Parse(r.label_selector);
  if (!l.ok()) return Status::Api(400, "BadRequest", l.status().message());
  s.labels = std::move(l.value());
  auto f = api::FieldSelector::Parse(r.field_selector);
  if (!f.ok()) return Status::Api(400, "BadRequest", f.status().message());
  s.fields = std::move(f.value());
  if (auto st = s.fields.CheckSupported({"metadata.name", "metadata.namespace"}); !st.ok()) {
    return Status::Api(400, "BadRequest", st.message());
  }
  return s;
}
bool Selected(const Selection& s, const json::object& obj) {
  const json::object& m = api::Metadata(obj);
  const json::object* labels = api::FindObject(m, "labels");
  static const json::object kNone;
  if (!s.labels.Matches(labels ? *labels : kNone)) return false;
  return s.fields.Matches(std::map<std::string, std::string>{{"metadata.name", api::GetString(m, "name")},
                                                              {"metadata.namespace", api::GetString(m, "namespace")}});
}

json::object List(const char* kind, json::array items) {
  return json::object{{"kind", kind}, {"apiVersion", kGroupVersion}, {"metadata", json::object()}, {"items", std::move(items)}};
}

const api::ResourceInfo& Core(const char* resource) { return *api::FindResource("", "v1", resource); }

}  // namespace

MetricsServer::MetricsServer(std::shared_ptr<client::Transport> transport, std::unique_ptr<KubeletSource> source,
                             MetricsServerOptions options)
    : options_(options),
      client_(std::move(transport)),
      source_(std::move(source)),
      informers_(&client_),
      nodes_(informers_.For(Core("nodes"))) {}

std::unique_ptr<MetricsServer> MetricsServer::Start(std::shared_ptr<client::Transport> transport,
                                                    std::unique_ptr<KubeletSource> source,
                                                    MetricsServerOptions options) {
  std::unique_ptr<MetricsServer> s(new MetricsServer(std::move(transport), std::move(source), options));
  s->informers_.Start();
  if (options.resolution.count() > 0) s->loop_ = std::thread([p = s.get()] { p->Loop(); });
  return s;
}

MetricsServer::~MetricsServer() { Stop(); }

void MetricsServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  informers_.Stop();
  if (loop_.joinable()) loop_.join();
}

bool MetricsServer::WaitForSync(std::chrono::milliseconds timeout) { return informers_.WaitForSync(timeout); }

void MetricsServer::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    if (nodes_->HasSynced()) ScrapeOnce();
    lock.lock();
    cv_.wait_for(lock, nodes_->HasSynced() ? options_.resolution : std::chrono::milliseconds(200),
                 [this] { return stopping_; });
  }
}

void MetricsServer::ScrapeOnce() {
  std::vector<NodeTarget> targets;
  std::set<std::string> names;
  for (const auto& n : nodes_->List()) {
    names.insert(api::GetString(api::Metadata(*n), "name"));
    if (auto t = TargetOf(*n)) targets.push_back(std::move(*t));
  }
  storage_.Retain(names);
  const auto budget = options_.resolution.count() > 0 ? std::min(options_.resolution, kMaxScrapeTime) : kMaxScrapeTime;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < targets.size();) {
      const NodeTarget& t = targets[i];
      auto text = source_->Fetch(t, deadline);
      const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 kite::Clock::Real()->Now().time_since_epoch()).count();
      Result<NodeResourceMetrics> parsed = text.ok() ? ParseResourceMetrics(*text, now_ms)
                                                     : Result<NodeResourceMetrics>(text.status());
      if (!parsed.ok()) {
        KITE_LOG(2) << "metrics server: " << parsed.status().message();
        continue;
      }
      storage_.Store(t.name, *parsed);
    }
  };
  const size_t n = std::min<size_t>(targets.size(), kMaxParallelScrapes);
  std::vector<std::thread> workers;
  for (size_t i = 1; i < n; ++i) workers.emplace_back(work);
  work();
  for (auto& w : workers) w.join();
}

Result<json::object> MetricsServer::Serve(const MetricsRequest& r) const {
  if (r.verb != "get" && r.verb != "list") {
    return Status::Api(405, "MethodNotAllowed",
                       r.verb + " is not supported on resources of kind \"" + r.resource + ".metrics.k8s.io\"");
  }
  if (r.resource == "nodes") return ServeNodes(r);
  if (r.resource == "pods") return ServePods(r);
  return Status::Api(404, "NotFound", "the server could not find the requested resource");
}

Result<json::object> MetricsServer::ServeNodes(const MetricsRequest& r) const {
  auto item = [this](const json::object& node) -> std::optional<json::object> {
    const std::string name = api::GetString(api::Metadata(node), "name");
    auto u = storage_.Node(name);
    if (!u) return std::nullopt;
    return json::object{{"kind", "NodeMetrics"}, {"apiVersion", kGroupVersion}, {"metadata", MetaOf(node, false)},
                        {"timestamp", Rfc3339(u->timestamp_ms)}, {"window", GoDuration(u->window_ms)},
                        {"usage", UsageJson(u->usage)}};
  };
  if (r.verb == "get") {
    auto node = nodes_->Get("", r.name);
    std::optional<json::object> out = node ? item(*node) : std::nullopt;
    if (!out) return Status::Api(404, "NotFound", "nodemetrics.metrics.k8s.io \"" + r.name + "\" not found");
    return std::move(*out);
  }
  auto sel = ParseSelection(r);
  if (!sel.ok()) return sel.status();
  auto nodes = nodes_->List();
  std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) {
    return api::GetString(api::Metadata(*a), "name") < api::GetString(api::Metadata(*b), "name");
  });
  json::array items;
  for (const auto& n : nodes) {
    if (!Selected(*sel, *n)) continue;
    if (auto o = item(*n)) items.push_back(std::move(*o));
  }
  return List("NodeMetricsList", std::move(items));
}

Result<json::object> MetricsServer::ServePods(const MetricsRequest& r) const {
  auto item = [this](const json::object& pod) -> std::optional<json::object> {
    const json::object& m = api::Metadata(pod);
    auto u = storage_.Pod(api::GetString(m, "namespace"), api::GetString(m, "name"));
    if (!u) return std::nullopt;
    json::array containers;
    for (const auto& c : u->containers) {
      containers.push_back(json::object{{"name", c.name}, {"usage", UsageJson(c.usage)}});
    }
    return json::object{{"kind", "PodMetrics"}, {"apiVersion", kGroupVersion}, {"metadata", MetaOf(pod, true)},
                        {"timestamp", Rfc3339(u->timestamp_ms)}, {"window", GoDuration(u->window_ms)},
                        {"containers", std::move(containers)}};
  };
  static const api::ResourceInfo& pods = Core("pods");
  if (r.verb == "get") {
    auto pod = client_.Get(pods, r.namespace_, r.name);
    if (!pod.ok() && !pod.status().IsNotFound()) return pod.status();
    std::optional<json::object> out = pod.ok() ? item(*pod) : std::nullopt;
    if (!out) {
      return Status::Api(404, "NotFound", "podmetrics.metrics.k8s.io \"" + r.namespace_ + "/" + r.name + "\" not found");
    }
    return std::move(*out);
  }
  auto sel = ParseSelection(r);
  if (!sel.ok()) return sel.status();
  client::ListParams params;
  params.label_selector = r.label_selector;  // the API server narrows; Selected still decides
  auto listed = client_.List(pods, r.namespace_, params);
  if (!listed.ok()) return listed.status();
  std::vector<const json::object*> found;
  for (const auto& p : api::GetArray(*listed, "items")) {
    if (p.is_object() && Selected(*sel, p.as_object())) found.push_back(&p.as_object());
  }
  std::sort(found.begin(), found.end(), [](const json::object* a, const json::object* b) {
    const json::object& ma = api::Metadata(*a);
    const json::object& mb = api::Metadata(*b);
    return std::pair(api::GetString(ma, "namespace"), api::GetString(ma, "name")) <
           std::pair(api::GetString(mb, "namespace"), api::GetString(mb, "name"));
  });
  json::array items;
  for (const json::object* p : found) {
    if (auto o = item(*p)) items.push_back(std::move(*o));
  }
  return List("PodMetricsList", std::move(items));
}

}  // namespace kite::metricsserver
