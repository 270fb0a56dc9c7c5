// Plain request/response types of the datastore, mirroring the etcd v3 API field for field so
// the etcd gRPC service is a thin translation and the in-process API server speaks the same
// semantics. Values are shared, immutable strings: the store, watchers and readers share one copy.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace kite::datastore {

using Value = std::shared_ptr<const std::string>;

struct KeyValue {
  std::string key;
  Value value;  // null means empty (keys_only reads, delete events)
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;  // 1 on create, +1 per put; a deleted key has version 0
  int64_t lease = 0;
  const std::string& value_or_empty() const;
};

struct Event {
  enum class Type { kPut = 0, kDelete = 1 };
  Type type = Type::kPut;
  KeyValue kv;  // for a delete: key and mod_revision (the delete's revision) only
  std::optional<KeyValue> prev_kv;
};

enum class SortOrder { kNone = 0, kAscend = 1, kDescend = 2 };
enum class SortTarget { kKey = 0, kVersion = 1, kCreate = 2, kMod = 3, kValue = 4 };

// Key ranges follow etcd: range_end empty = the single key; "\0" = every key >= key (with key
// "\0" too: every key); otherwise the half-open interval [key, range_end).
struct RangeRequest {
  std::string key;
  std::string range_end;
  int64_t limit = 0;     // 0 = no limit
  int64_t revision = 0;  // <= 0 = latest
  SortOrder sort_order = SortOrder::kNone;
  SortTarget sort_target = SortTarget::kKey;
  bool serializable = false;
  bool keys_only = false;
  bool count_only = false;
  int64_t min_mod_revision = 0, max_mod_revision = 0;
  int64_t min_create_revision = 0, max_create_revision = 0;
};

struct RangeResponse {
  int64_t revision = 0;  // header revision: the store revision the read saw
  std::vector<KeyValue> kvs;
  bool more = false;
  int64_t count = 0;  // keys in the range (after revision filters), ignoring limit
};

struct PutRequest {
  std::string key;
  Value value;
  int64_t lease = 0;
  bool prev_kv = false;
  bool ignore_value = false;
  bool ignore_lease = false;
};

struct PutResponse {
  int64_t revision = 0;
  std::optional<KeyValue> prev_kv;
};

struct DeleteRangeRequest {
  std::string key;
  std::string range_end;
  bool prev_kv = false;
};

struct DeleteRangeResponse {
  int64_t revision = 0;
  int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;
};

struct Compare {
  enum class Result { kEqual = 0, kGreater = 1, kLess = 2, kNotEqual = 3 };
  enum class Target { kVersion = 0, kCreate = 1, kMod = 2, kValue = 3, kLease = 4 };
  Result result = Result::kEqual;
  Target target = Target::kVersion;
  std::string key;
  std::string range_end;
  int64_t number = 0;  // version, create_revision, mod_revision or lease, by target
  std::string value;   // for Target::kValue
};

struct TxnRequest;
struct TxnResponse;

struct RequestOp {
  std::variant<RangeRequest, PutRequest, DeleteRangeRequest, std::shared_ptr<TxnRequest>> op;
};

struct ResponseOp {
  std::variant<RangeResponse, PutResponse, DeleteRangeResponse, std::shared_ptr<TxnResponse>> op;
};

struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<RequestOp> success;
  std::vector<RequestOp> failure;
};

struct TxnResponse {
  int64_t revision = 0;
  bool succeeded = false;
  std::vector<ResponseOp> responses;
};

struct LeaseInfo {
  int64_t id = 0;
  int64_t ttl = 0;          // remaining seconds (grant: the granted TTL)
  int64_t granted_ttl = 0;
  std::vector<std::string> keys;  // only when asked for
};

struct WatchOptions {
  std::string key;
  std::string range_end;
  int64_t start_revision = 0;  // <= 0: from the next revision on
  bool prev_kv = false;
  bool no_put = false;     // FilterType NOPUT
  bool no_delete = false;  // FilterType NODELETE
};

// Limits shared with etcd (server/embed/config.go, server/etcdserver/api/v3rpc).
inline constexpr int64_t kMaxRequestBytes = 1536 * 1024;  // 1.5 MiB
inline constexpr int kMaxTxnOps = 128;
inline constexpr int64_t kMaxLeaseTtl = 9000000000;
inline constexpr int64_t kMinLeaseTtl = 2;  // etcd: ceil(1.5 * election timeout) with defaults

// True when `key` lies in the etcd range [begin, end) as described above.
bool InRange(const std::string& key, const std::string& begin, const std::string& end);

}  // namespace kite::datastore
