// Helpers for datastore tests: a store on a fresh temporary folder, and request builders.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "datastore/store.h"

namespace kite::datastore::testing {

inline std::string TempDir() {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() / ("kite-test-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline std::unique_ptr<Store> Open(const std::string& dir, int64_t compaction_interval_ms = 0,
                                   int64_t retain = 1000, const Clock* clock = Clock::Real()) {
  StoreOptions o;
  o.clock = clock;
  o.data_dir = dir;
  o.compaction_interval_ms = compaction_interval_ms;
  o.compaction_retain_revisions = retain;
  auto s = OpenSqliteStore(o);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return std::move(s.value());
}

inline RequestOp PutOp(const std::string& k, const std::string& v, int64_t lease = 0) {
  PutRequest p;
  p.key = k;
  p.value = std::make_shared<const std::string>(v);
  p.lease = lease;
  return RequestOp{std::move(p)};
}

inline RequestOp GetOp(const std::string& k, const std::string& end = "") {
  RangeRequest r;
  r.key = k;
  r.range_end = end;
  return RequestOp{std::move(r)};
}

inline RequestOp DelOp(const std::string& k, const std::string& end = "") {
  return RequestOp{DeleteRangeRequest{k, end, true}};
}

inline Compare ModEquals(const std::string& k, int64_t rev) {
  Compare c;
  c.key = k;
  c.target = Compare::Target::kMod;
  c.result = Compare::Result::kEqual;
  c.number = rev;
  return c;
}

inline RangeResponse Get(Store& s, const std::string& key, const std::string& end = "", int64_t rev = 0) {
  RangeRequest r;
  r.key = key;
  r.range_end = end;
  r.revision = rev;
  auto res = s.Range(r);
  EXPECT_TRUE(res.ok()) << res.status().message();
  return res.ok() ? res.value() : RangeResponse{};
}

inline std::string Prefix(const std::string& p) {
  std::string end = p;
  end.back()++;
  return end;
}

}  // namespace kite::datastore::testing
