#include "server/apiserver/handlers/list_stream.h"

#include <boost/json.hpp>

#include <memory>
#include <vector>

#include "server/apiserver/handlers/stored_output.h"
#include "server/apiserver/printers/tables.h"
#include "server/apiserver/storage/list_walk.h"
#include "server/apiserver/storage/watch_cache.h"
#include "server/apiserver/storage/watch_transform.h"

namespace kite::apiserver {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Output is written this much at a time (one TLS write of four records, base/tls_socket.h).
constexpr size_t kListChunkBytes = 64 * 1024;

}  // namespace

bool StreamableList(const api::ResourceInfo& r, const HttpsRequest& req) {
  if (req.body_unused || !WantedTableVersion(req.Header("accept")).empty()) return false;
  return !WatchTransform(r).active();
}

asio::awaitable<Result<ApiResponse>> StreamList(HttpsResponder& res, datastore::Store* store,
                                                const api::ResourceInfo& r, const std::string& ns,
                                                const ListOptions& o) {
  const WatchTransform transform(r);
  const Selection selection(o, r, transform);
  std::vector<ShownObject> shown;
  auto walk = WalkList(store, r, ns, o, [&](const datastore::KeyValue& kv) {
    if (!kv.value) return false;
    std::shared_ptr<const json::object> labels;
    auto s = ShowStored(*kv.value, kv.mod_revision, o.labels.Empty() ? nullptr : &labels);
    if (!s || !selection.Matches(kv.key, *kv.value, labels.get())) return false;
    shown.push_back(std::move(*s));
    return true;
  });
  if (!walk.ok()) co_return walk.error();
  StoredList& list = walk.value();

  // The head as serialising List's object writes it, up to the items' '['.
  json::object head;
  head["kind"] = r.kind + "List";
  head["apiVersion"] = r.group_version();
  head["metadata"] = ListMetadata(list);
  std::string text = json::serialize(head);
  text.back() = ',';
  text += "\"items\":[";

  // The whole answer as pieces of the stored text (nothing copied yet).
  PendingOutput out;
  out.Add(std::move(text));
  for (size_t i = 0; i < list.items.size(); ++i) {
    if (i > 0) out.AddLiteral(",");
    const datastore::Value& stored = list.items[i].value;
    const ShownObject& s = shown[i];
    if (s.splice) {
      out.Add(stored, 0, s.splice->begin);
      out.Add(s.splice->insert);
      out.Add(stored, s.splice->end, stored->size());
    } else {
      out.Add(s.reencoded);
    }
  }
  out.AddLiteral("]}");
  shown.clear();

  ApiResponse streamed;
  streamed.streamed = true;
  const std::string content_type = "application/json";  // named: no temporaries across co_await
  if (out.size() <= kListChunkBytes) {
    // Small: one write, with a Content-Length, as any other answer.
    std::string body = out.Take(kListChunkBytes);
    co_await res.Send(200, content_type, std::move(body));
    co_return streamed;
  }
  if (!co_await res.BeginStream(200, content_type)) co_return streamed;
  while (out.size() > 0) {
    std::string chunk = out.Take(kListChunkBytes);
    if (!co_await res.WriteChunk(std::move(chunk))) co_return streamed;  // the client went away
  }
  co_await res.EndStream();
  co_return streamed;
}

}  // namespace kite::apiserver
