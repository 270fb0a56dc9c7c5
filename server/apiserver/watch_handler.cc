#include "server/apiserver/watch_handler.h"

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <map>
#include <optional>

#include "server/apiserver/registry.h"
#include "server/apiserver/status.h"

namespace kite::apiserver {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Shared between the coroutine and the store's wake callback (which may run on the writer
// thread after the coroutine has finished): the timer is only touched on its executor.
struct WakeSignal {
  explicit WakeSignal(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  bool pending = false;  // a wake arrived while not waiting
};

std::optional<json::object> Parse(const datastore::KeyValue& kv, int64_t rv) {
  boost::system::error_code ec;
  json::value v = json::parse(kv.value_or_empty(), ec);
  if (ec || !v.is_object()) return std::nullopt;
  auto& meta = v.as_object()["metadata"];
  if (meta.is_object()) meta.as_object()["resourceVersion"] = std::to_string(rv);
  return std::move(v.as_object());
}

// Turns stored objects into event lines in the requested format.
struct EventWriter {
  const api::ResourceInfo& r;
  const WatchFormat& format;
  bool sent_headers = false;

  std::string Line(const char* type, json::object obj) {
    json::value out;
    if (format.table_version.empty()) {
      out = std::move(obj);
    } else {
      out = ToTable(r, obj, format.include, format.table_version, std::chrono::system_clock::now(), sent_headers);
      sent_headers = true;
    }
    json::object ev{{"type", type}, {"object", std::move(out)}};
    return json::serialize(ev) + "\n";
  }
};

std::string ErrorLine(const ApiError& e) {
  return "{\"type\":\"ERROR\",\"object\":" + StatusJson(e) + "}\n";
}

}  // namespace

asio::awaitable<void> ServeWatch(HttpsRequest& req, HttpsResponder& res, datastore::Store* store, WatchCache* cache,
                                 const api::ResourceInfo& r, const std::string& ns, ListOptions opts,
                                 WatchFormat format) {
  auto ex = co_await asio::this_coro::executor;
  EventWriter writer{r, format};
  const std::string prefix = StoragePrefix(r, ns);
  const std::string all_prefix = StoragePrefix(r, "");
  std::string end = prefix;
  end.back()++;
  const std::string rv_text = opts.resource_version;
  int64_t start = 0;
  std::string initial;
  if (rv_text.empty() || rv_text == "0") {
    datastore::RangeRequest q;
    q.key = prefix;
    q.range_end = end;
    auto list = store->Range(q);
    if (!list.ok()) {
      co_await res.Send(500, "application/json", StatusJson(InternalError(list.status().message())));
      co_return;
    }
    for (const auto& kv : list->kvs) {
      auto o = Parse(kv, kv.mod_revision);
      if (o && MatchesListOptions(opts, r, *o)) initial += writer.Line("ADDED", std::move(*o));
    }
    start = list->revision + 1;
  } else {
    char* stop = nullptr;
    long long rv = std::strtoll(rv_text.c_str(), &stop, 10);
    if (*stop != '\0' || rv < 0) {
      co_await res.Send(400, "application/json",
                        StatusJson(BadRequest("invalid resource version \"" + rv_text + "\"")));
      co_return;
    }
    start = rv + 1;
  }
  int64_t timeout_s = 1800;  // upstream picks 30-60 min when the client gives none
  if (opts.timeout_seconds) timeout_s = *opts.timeout_seconds;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  auto next_bookmark = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int64_t last_rv = start - 1;
  auto bookmark = [&]() {
    json::object obj{{"kind", r.kind}, {"apiVersion", r.group_version()},
                     {"metadata", json::object{{"resourceVersion", std::to_string(std::max(last_rv, cache->revision()))}}}};
    return json::serialize(json::object{{"type", "BOOKMARK"}, {"object", std::move(obj)}}) + "\n";
  };

  // Selector checks: labels come pre-extracted with the event; metadata.name/namespace are read
  // off the key; other fields need the object parsed (only for watchers that ask for them).
  bool key_fields_only = true;
  for (const auto& f : opts.fields.Fields()) key_fields_only &= f == "metadata.name" || f == "metadata.namespace";
  auto matches = [&](const CachedEvent& e, bool before) -> bool {
    if (before && !e.prev_value) return false;
    if (!opts.Filters()) return true;
    if (!opts.labels.Empty() && !opts.labels.Matches(before ? *e.prev_labels : *e.labels)) return false;
    if (opts.fields.Empty()) return true;
    if (key_fields_only) {
      std::string rest = e.key.substr(all_prefix.size());
      std::string key_ns, key_name = rest;
      if (r.namespaced) {
        auto slash = rest.find('/');
        key_ns = rest.substr(0, slash);
        key_name = slash == std::string::npos ? "" : rest.substr(slash + 1);
      }
      std::map<std::string, std::string> f{{"metadata.name", key_name}, {"metadata.namespace", key_ns}};
      return opts.fields.Matches(f);
    }
    boost::system::error_code ec;
    json::value v = json::parse(before ? std::string_view(*e.prev_value) : std::string_view(e.object_json), ec);
    return !ec && v.is_object() && MatchesListOptions(opts, r, v.as_object());
  };
  auto line = [&](const char* type, const CachedEvent& e) -> std::string {
    if (format.table_version.empty()) {
      return std::string("{\"type\":\"") + type + "\",\"object\":" + e.object_json + "}\n";
    }
    boost::system::error_code ec;
    json::value v = json::parse(e.object_json, ec);
    if (ec || !v.is_object()) return "";
    return writer.Line(type, std::move(v.as_object()));
  };

  auto signal = std::make_shared<WakeSignal>(ex);
  std::weak_ptr<WakeSignal> weak = signal;
  auto subscription = cache->Subscribe([weak] {
    if (auto s = weak.lock()) {
      asio::post(s->timer.get_executor(), [s] {
        s->pending = true;
        s->timer.cancel();
      });
    }
  });

  if (!co_await res.BeginStream(200, "application/json")) co_return;
  if (!initial.empty() && !co_await res.WriteChunk(std::move(initial))) co_return;
  uint64_t cursor = 0;
  std::vector<std::shared_ptr<const CachedEvent>> batch;
  for (;;) {
    batch.clear();
    int64_t oldest = 0;
    if (!cache->Read(start, &cursor, 256, &batch, &oldest)) {
      ApiError gone{410, "Expired", "too old resource version: " + std::to_string(start - 1) + " (" +
                                        std::to_string(oldest) + ")"};
      co_await res.WriteChunk(ErrorLine(gone));
      break;
    }
    if (!batch.empty()) {
      std::string out;
      for (const auto& e : batch) {
        last_rv = e->revision;
        if (e->key.compare(0, prefix.size(), prefix) != 0) continue;
        if (e->deleted) {
          if (matches(*e, false)) out += line("DELETED", *e);
          continue;
        }
        bool is = matches(*e, false);
        bool was = matches(*e, true);
        if (is && was) out += line("MODIFIED", *e);
        else if (is) out += line("ADDED", *e);
        else if (was) out += line("DELETED", *e);  // left the selection
      }
      if (!out.empty() && !co_await res.WriteChunk(std::move(out))) break;
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      if (opts.allow_bookmarks) co_await res.WriteChunk(bookmark());
      break;
    }
    if (opts.allow_bookmarks && now >= next_bookmark) {
      next_bookmark = now + std::chrono::seconds(60);
      if (!co_await res.WriteChunk(bookmark())) break;
    }
    if (signal->pending) {
      signal->pending = false;
      continue;
    }
    signal->timer.expires_at(opts.allow_bookmarks ? std::min(deadline, next_bookmark) : deadline);
    auto [ec] = co_await signal->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    signal->pending = false;
    if (!ec && std::chrono::steady_clock::now() >= deadline) {  // timer ran out: the timeout
      if (opts.allow_bookmarks) co_await res.WriteChunk(bookmark());
      break;
    }
  }
  subscription.reset();
  co_await res.EndStream();
}

}  // namespace kite::apiserver
