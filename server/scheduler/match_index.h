// Standing label queries over the scheduler's placed pods: "pods of these namespaces matching
// this selector, counted per value of this node label". Inter-pod affinity (the incoming pod's
// own terms) and topology spread ask exactly this in every scheduling cycle; answering it by
// walking the namespace's pods costs O(pods) per cycle, which at 10k-50k pods made those
// workloads 10-100x slower than plain pods. Pods of one workload share their terms, so the
// same few queries repeat: the first ask builds the counts with one walk, after which the Cache
// keeps them current as pods are placed, removed or their node relabelled (O(queries) per
// change). Queries nobody asked for recently are dropped (least recently used beyond
// kMaxQueries).
//
// Counts are handed out as shared_ptr<const MatchCounts>: a holder reads counts that stay valid
// (frozen) even if the query is evicted meanwhile; the scheduling cycle that asked re-asks in its
// next cycle anyway.
//
// Threading: none; owned by the Cache (the scheduling loop's thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/labels.h"
#include "server/scheduler/pod_info.h"

namespace kite::scheduler {

class NodeInfo;

struct MatchCounts {
  std::unordered_map<std::string, int> by_value;  // topology value → matching pods there (> 0)
  int64_t total = 0;                              // sum of by_value
  void Bump(const std::string& value, int delta);
};
using MatchCountsPtr = std::shared_ptr<const MatchCounts>;

// What is counted: pods in one of `namespaces` whose labels match `selector` (terminating pods
// left out when `skip_terminating`), on known nodes that carry `topology_key`.
struct MatchQuery {
  std::vector<std::string> namespaces;
  api::LabelSelector selector;
  std::string topology_key;
  bool skip_terminating = false;
  bool Selects(const PodInfo& pod) const;
};

class MatchIndex {
 public:
  static constexpr size_t kMaxQueries = 64;

  // The counts of the query registered under `id`, or null (then Add it).
  std::shared_ptr<MatchCounts> Find(const std::string& id);
  // Registers a query with the counts the caller computed; evicts the least recently used
  // query when full.
  void Add(const std::string& id, MatchQuery query, std::shared_ptr<MatchCounts> counts);
  // `pod` was placed on (+1) or removed from (-1) `node`; a node without its Node object counts
  // nothing.
  void Update(const PodInfo& pod, const NodeInfo& node, int delta);
  size_t size() const { return queries_.size(); }

 private:
  struct Entry {
    MatchQuery query;
    std::shared_ptr<MatchCounts> counts;
    uint64_t last_used = 0;
  };
  std::unordered_map<std::string, Entry> queries_;
  uint64_t tick_ = 0;
};

}  // namespace kite::scheduler
