#include "server/apiserver/storage/list_walk.h"

#include <algorithm>
#include <cstdlib>

#include "server/apiserver/storage/registry.h"

namespace kite::apiserver {

Result<StoredList> WalkList(datastore::Store* store, const api::ResourceInfo& r, const std::string& ns,
                            const ListOptions& o, const std::function<bool(const datastore::KeyValue&)>& matches) {
  const std::string prefix = StoragePrefix(r, ns);
  std::string end = prefix;
  end.back()++;
  int64_t read_rev = 0;
  if (o.continue_rv > 0) {
    read_rev = o.continue_rv;
  } else if (o.resource_version_match == "Exact") {
    char* stop = nullptr;
    read_rev = std::strtoll(o.resource_version.c_str(), &stop, 10);
    if (o.resource_version.empty() || *stop != '\0' || read_rev <= 0) {
      return BadRequest("resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"" +
                        o.resource_version + "\"");
    }
  }
  StoredList list;
  std::string start = prefix + o.continue_key;
  std::string next_key;
  const bool filtered = o.Filters();
  for (;;) {
    datastore::RangeRequest q;
    q.key = start;
    q.range_end = end;
    q.revision = read_rev;
    if (o.limit > 0) q.limit = filtered ? std::max<int64_t>(o.limit + 1, 500) : o.limit + 1 - int64_t(list.items.size());
    auto res = store->Range(q);
    if (!res.ok()) {
      if (res.status().code() == Code::kOutOfRange) {
        if (o.continue_rv > 0) {
          return Status::Api(410, "Expired",
                             "The provided continue parameter is too old to display a consistent list result. You "
                             "can start a new list without the continue parameter, or use the continue token in "
                             "this response to retrieve the remainder of the results. Continuing with the provided "
                             "token results in an inconsistent list - objects that were created, modified, or "
                             "deleted between the time the first chunk was returned and now may show up in the list.");
        }
        return Status::Api(410, "Expired", "too old resource version: " + std::to_string(read_rev));
      }
      return InternalError(res.status().message());
    }
    if (read_rev == 0) read_rev = res->revision;  // later pages read the same revision
    bool full = false;
    // The next page starts after the last key read (taken before the items move out).
    const std::string last = res->kvs.empty() ? std::string() : res->kvs.back().key;
    for (auto& kv : res->kvs) {
      if (!matches(kv)) continue;
      if (o.limit > 0 && int64_t(list.items.size()) == o.limit) {
        next_key = kv.key;
        full = true;
        break;
      }
      list.items.push_back(std::move(kv));
    }
    if (full) {
      if (!filtered) list.remaining_item_count = res->count - o.limit;
      break;
    }
    if (!res->more || res->kvs.empty()) break;
    start = last + std::string(1, '\0');
  }
  list.revision = read_rev;
  if (!next_key.empty()) list.continue_token = EncodeContinue(read_rev, next_key.substr(prefix.size()));
  return list;
}

boost::json::object ListMetadata(const StoredList& list) {
  boost::json::object meta{{"resourceVersion", std::to_string(list.revision)}};
  if (!list.continue_token.empty()) {
    meta["continue"] = list.continue_token;
    if (list.remaining_item_count > 0) meta["remainingItemCount"] = list.remaining_item_count;
  }
  return meta;
}

}  // namespace kite::apiserver
