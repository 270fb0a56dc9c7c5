// The cache's standing label queries (match_index.h) against a brute-force count over the
// cache's pods, through random placements, removals, assumptions, node relabels and removals.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "server/scheduler/cache.h"
#include "tests/unit/server/scheduler/test_util.h"

namespace kite::scheduler {
namespace {

using testing::MakeNode;
using testing::MakePod;

AffinityTerm Term(const std::string& selector, std::vector<std::string> namespaces, const std::string& key) {
  AffinityTerm t;
  t.selector = api::LabelSelector::Parse(selector).value();
  t.namespaces = std::move(namespaces);
  t.topology_key = key;
  t.signature = "test|" + selector + "|" + t.namespaces[0] + "|" + key;
  return t;
}

std::unordered_map<std::string, int> Brute(const Cache& cache, const AffinityTerm& t) {
  std::unordered_map<std::string, int> out;
  cache.ForEachPodMatching(t, [&](const PodInfo&, const NodeInfo& n) {
    if (const std::string* v = n.Label(t.topology_key)) ++out[*v];
  });
  return out;
}

std::unordered_map<std::string, int> BruteSpread(const Cache& cache, const std::string& ns, const api::LabelSelector& s,
                                                 const std::string& key) {
  std::unordered_map<std::string, int> out;
  cache.ForEachPodIn(ns, [&](const PodInfo& p, const NodeInfo& n) {
    const std::string* v = n.Label(key);
    if (v && !p.terminating && s.Matches(p.labels)) ++out[*v];
  });
  return out;
}

int64_t Total(const std::unordered_map<std::string, int>& m) {
  int64_t t = 0;
  for (const auto& [k, v] : m) t += v;
  return t;
}

PodInfoPtr RandomPod(std::mt19937& rng, int i, const std::string& node) {
  static const char* kGroups[] = {"a", "b", "c"};
  static const char* kNs[] = {"x", "y"};
  std::string meta = std::string(R"({"labels":{"group":")") + kGroups[rng() % 3] + "\"" +
                     (rng() % 2 ? R"(,"tier":"web")" : "") + "}" +
                     (rng() % 5 == 0 ? R"(,"deletionTimestamp":"2024-01-01T00:00:00Z")" : "") + "}";
  std::string spec = node.empty() ? "{}" : R"({"nodeName":")" + node + "\"}";
  return MakePod("p" + std::to_string(i), "", "", spec, meta, kNs[rng() % 2]);
}

TEST(MatchIndex, StandingCountsEqualBruteForceThroughChanges) {
  std::mt19937 rng(7);
  Cache cache;
  auto node = [&](int n, int zone) {
    return MakeNode("n" + std::to_string(n), "4", "8Gi", R"({"zone":"z)" + std::to_string(zone) + "\"}");
  };
  for (int n = 0; n < 12; ++n) cache.SetNode(node(n, n % 3));
  const std::vector<AffinityTerm> terms = {
      Term("group=a", {"x"}, "kubernetes.io/hostname"), Term("group=b", {"x", "y"}, "zone"),
      Term("group in (a,c),tier=web", {"y"}, "zone"), Term("tier", {"x"}, "kubernetes.io/hostname"),
      Term("group=a", {"x"}, "missing-key")};
  const std::vector<std::pair<std::string, std::string>> spreads = {
      {"group=a", "zone"}, {"group=b,tier=web", "kubernetes.io/hostname"}, {"group", "zone"}};

  auto check = [&](int step) {
    for (const auto& t : terms) {
      MatchCountsPtr c = cache.CountMatching(t);
      auto want = Brute(cache, t);
      ASSERT_EQ(c->by_value, want) << "step " << step << " term " << t.signature;
      ASSERT_EQ(c->total, Total(want)) << "step " << step;
    }
    for (const std::string ns : {"x", "y"}) {
      for (const auto& [sel, key] : spreads) {
        auto s = api::LabelSelector::Parse(sel).value();
        ASSERT_EQ(cache.CountSpread(ns, s, key)->by_value, BruteSpread(cache, ns, s, key))
            << "step " << step << " spread " << ns << " " << sel;
      }
    }
  };

  std::vector<std::string> keys;
  for (int step = 0; step < 3000; ++step) {
    const int op = static_cast<int>(rng() % 10);
    if (op < 4 || keys.empty()) {  // bind a pod (new or moved)
      const std::string n = "n" + std::to_string(rng() % 14);  // n12, n13 have no Node object
      PodInfoPtr p = RandomPod(rng, static_cast<int>(rng() % 400), n);
      cache.AddPod(p);
      keys.push_back(p->key);
    } else if (op == 4) {  // assume, then maybe forget
      PodInfoPtr p = RandomPod(rng, 1000 + step, "");
      cache.AssumePod(p, "n" + std::to_string(rng() % 12));
      if (rng() % 2) cache.ForgetPod(p->key);
    } else if (op < 7) {
      cache.RemovePod(keys[rng() % keys.size()]);
    } else if (op < 9) {  // relabel a node (its zone moves)
      int n = static_cast<int>(rng() % 14);
      cache.SetNode(node(n, static_cast<int>(rng() % 4)));
    } else {
      cache.RemoveNode("n" + std::to_string(rng() % 14));
    }
    if (step % 7 == 0) check(step);
  }
  check(-1);
}

TEST(MatchIndex, EvictedQueriesStayReadableAndAreRebuilt) {
  Cache cache;
  cache.SetNode(MakeNode("n0"));
  cache.AddPod(testing::Bound("n0", "p0", "", "", "{}", R"({"labels":{"group":"g0"}})"));
  const AffinityTerm first = Term("group=g0", {"default"}, "kubernetes.io/hostname");
  MatchCountsPtr held = cache.CountMatching(first);
  EXPECT_EQ(held->total, 1);
  for (size_t i = 1; i <= MatchIndex::kMaxQueries + 5; ++i) {
    cache.CountMatching(Term("group=g" + std::to_string(i), {"default"}, "kubernetes.io/hostname"));
  }
  EXPECT_LE(cache.NumMatchQueries(), MatchIndex::kMaxQueries);
  EXPECT_EQ(held->total, 1);  // evicted, still readable
  cache.AddPod(testing::Bound("n0", "p1", "", "", "{}", R"({"labels":{"group":"g0"}})"));
  EXPECT_EQ(cache.CountMatching(first)->total, 2);  // rebuilt from the pods
}

}  // namespace
}  // namespace kite::scheduler
