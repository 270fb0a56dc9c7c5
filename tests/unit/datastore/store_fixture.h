// StoreTest: a fixture with a fresh SQLite-backed Store in a temporary directory (removed after
// the test), and Put/Delete of one key, for tests of what follows the datastore (the RBAC and
// Node authorizers' indexes, the service-account object cache).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "tests/unit/datastore/test_util.h"

namespace kite::datastore::testing {

class StoreTest : public ::testing::Test {
 protected:
  StoreTest() : dir_(TempDir()), store_(Open(dir_ + "/db")) {}
  ~StoreTest() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Put(const std::string& key, const std::string& value) {
    TxnRequest t;
    t.success.push_back(PutOp(key, value));
    ASSERT_TRUE(store_->TxnSync(std::move(t)).ok());
  }
  void Delete(const std::string& key) {
    DeleteRangeRequest d;
    d.key = key;
    TxnRequest t;
    t.success.push_back(RequestOp{std::move(d)});
    ASSERT_TRUE(store_->TxnSync(std::move(t)).ok());
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace kite::datastore::testing
