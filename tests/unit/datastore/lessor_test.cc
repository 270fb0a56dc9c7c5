// The lessor's deadlines on a FakeClock: what the store's background pass may revoke, decided
// without waiting in real time (the store test checks only that the pass revokes what it gets).
#include "datastore/lessor.h"

#include <gtest/gtest.h>

#include "base/testing/fake_clock.h"
#include "datastore/errors.h"

namespace kite::datastore {
namespace {

TEST(LessorTest, ExpiresAtTheDeadlineOnceAndKeepAliveRestartsTheTtl) {
  kite::testing::FakeClock clock;
  Lessor lessor(&clock);
  lessor.Add(7, 5);
  lessor.Attach(7, "/a");
  lessor.Attach(7, "/b");
  EXPECT_EQ(lessor.TimeToLive(7, true)->keys, (std::vector<std::string>{"/a", "/b"}));

  // A second short of the deadline: nothing to revoke, one second left.
  clock.Advance(std::chrono::seconds(4));
  EXPECT_EQ(lessor.TimeToLive(7, false)->ttl, 1);
  EXPECT_TRUE(lessor.TakeExpired().empty());

  // A keep-alive restarts the full TTL from now.
  EXPECT_EQ(lessor.KeepAlive(7)->ttl, 5);
  clock.Advance(std::chrono::seconds(4));
  EXPECT_TRUE(lessor.TakeExpired().empty());
  EXPECT_EQ(lessor.TimeToLive(7, false)->ttl, 1);

  // At the deadline it is handed out, once; a lease being revoked cannot be kept alive.
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(lessor.TimeToLive(7, false)->ttl, 0);
  EXPECT_EQ(lessor.TakeExpired(), std::vector<int64_t>{7});
  EXPECT_TRUE(lessor.TakeExpired().empty());
  EXPECT_EQ(lessor.KeepAlive(7).status(), errors::LeaseNotFound());

  // Removing it gives back the keys to delete.
  EXPECT_EQ(lessor.Remove(7), (std::vector<std::string>{"/a", "/b"}));
  EXPECT_FALSE(lessor.Exists(7));
  EXPECT_EQ(lessor.TimeToLive(7, false).status(), errors::LeaseNotFound());
}

TEST(LessorTest, DetachedKeysAreNotRevokedWithTheLease) {
  kite::testing::FakeClock clock;
  Lessor lessor(&clock);
  lessor.Add(1, 10);
  lessor.Attach(1, "/a");
  lessor.Attach(1, "/b");
  lessor.Detach(1, "/a");
  clock.Advance(std::chrono::seconds(10));
  EXPECT_EQ(lessor.TakeExpired(), std::vector<int64_t>{1});
  EXPECT_EQ(lessor.Remove(1), std::vector<std::string>{"/b"});
}

}  // namespace
}  // namespace kite::datastore
