// Leader election against the fake API with a fake clock: a lease that stopped moving is taken
// over only once its holder's leaseDurationSeconds passed on the taker's clock, and the
// takeover is recorded in the Lease as client-go records it.
#include "client/leader_election.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "base/testing/fake_clock.h"
#include "client/testing/fake_transport.h"
#include "tests/unit/eventually.h"

namespace kite::client {
namespace {
namespace json = boost::json;
using namespace std::chrono_literals;

using kite::testing::Eventually;

TEST(LeaderElectionTest, AStaleLeaseIsTakenOverAfterItsDurationOnOurClock) {
  kite::testing::FakeClock clock;
  auto fake = std::make_shared<testing::FakeTransport>(&clock);
  Client client(fake);
  const auto* leases = api::FindResource("coordination.k8s.io", "v1", "leases");
  // Held by a process that died: it will never renew.
  fake->Add(*leases, json::parse(R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
      "metadata":{"name":"lock","namespace":"kube-system"},
      "spec":{"holderIdentity":"dead","leaseDurationSeconds":15,"leaseTransitions":4}})").as_object());
  LeaderElectionConfig c;
  c.lease_name = "lock";
  c.identity = "me";
  c.lease_duration = 15s;
  c.renew_deadline = 10s;
  c.retry_period = 10ms;  // real time between attempts; the lease's age is on the fake clock
  LeaderElector e(&client, c, &clock);
  std::atomic<bool> leads{false};
  e.Start([&] { leads = true; }, [&] { leads = false; });
  // Many attempts, but no time passed on our clock: the lease is still the dead holder's.
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(leads);
  clock.Advance(14s);
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(leads);
  clock.Advance(1s);
  ASSERT_TRUE(Eventually([&] { return leads.load(); }));
  json::object spec = fake->Get(*leases, "kube-system", "lock")->at("spec").as_object();
  EXPECT_EQ(spec.at("holderIdentity"), "me");
  EXPECT_EQ(spec.at("leaseTransitions"), 5);
  // acquireTime is our clock's wall time at the takeover (2026-01-01T00:00:15Z).
  EXPECT_EQ(spec.at("acquireTime"), "2026-01-01T00:00:15.000000Z");
  e.Stop();
}

}  // namespace
}  // namespace kite::client
