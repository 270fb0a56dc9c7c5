// client/leader_election.cc against the fake API with a fake clock: a lease that stopped moving is
// taken over only once its holder's leaseDurationSeconds passed on the taker's clock (the
// holder's duration, not ours), the takeover is recorded in the Lease as client-go records it, a
// holder that renews keeps the lease, and a released lease passes at once. No real time is
// waited for: attempts are counted (an elector reads the lease at the start of each one).
#include "client/leader_election.h"

#include <gtest/gtest.h>

#include <atomic>

#include "base/testing/fake_clock.h"
#include "client/testing/fake_transport.h"
#include "tests/unit/eventually.h"

namespace kite::client {
namespace {
namespace json = boost::json;
using namespace std::chrono_literals;

using kite::testing::Eventually;

const api::ResourceInfo& LeaderTestLeases() { return *api::FindResource("coordination.k8s.io", "v1", "leases"); }

size_t LeaseReads(const testing::FakeTransport& fake) {
  size_t n = 0;
  for (const auto& a : fake.Actions()) n += a.verb == "get" && a.resource == "leases";
  return n;
}
size_t LeaseUpdates(const testing::FakeTransport& fake) { return fake.Writes("update", "leases").size(); }

// Waits until electors started three more attempts: then at least two began after this call and
// one of them finished (its callbacks included), at the clock's time now.
void WaitForAttempts(const testing::FakeTransport& fake) {
  const size_t from = LeaseReads(fake);
  ASSERT_TRUE(Eventually([&] { return LeaseReads(fake) >= from + 3; }));
}

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
  // Attempts, but no time passed on our clock: the lease is still the dead holder's.
  ASSERT_NO_FATAL_FAILURE(WaitForAttempts(*fake));
  EXPECT_FALSE(leads);
  clock.Advance(14s);
  ASSERT_NO_FATAL_FAILURE(WaitForAttempts(*fake));
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

// Another holder's lease counts for the leaseDurationSeconds it wrote, not for ours.
TEST(LeaderElectionTest, HonoursTheHoldersLeaseDuration) {
  kite::testing::FakeClock clock;
  auto fake = std::make_shared<testing::FakeTransport>(&clock);
  Client client(fake);
  fake->Add(LeaderTestLeases(), json::parse(R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
      "metadata":{"name":"long-lock","namespace":"kube-system"},
      "spec":{"holderIdentity":"other","leaseDurationSeconds":3600}})").as_object());
  LeaderElectionConfig c;
  c.lease_name = "long-lock";
  c.identity = "a";
  c.lease_duration = 300ms;
  c.renew_deadline = 200ms;
  c.retry_period = 10ms;
  LeaderElector a(&client, c, &clock);
  std::atomic<bool> leads{false};
  a.Start([&] { leads = true; }, [&] { leads = false; });
  ASSERT_NO_FATAL_FAILURE(WaitForAttempts(*fake));
  clock.Advance(1200ms);  // four of our lease durations
  ASSERT_NO_FATAL_FAILURE(WaitForAttempts(*fake));
  EXPECT_FALSE(leads);
  EXPECT_EQ(fake->Get(LeaderTestLeases(), "kube-system", "long-lock")->at("spec").at("holderIdentity"), "other");
  clock.Advance(3600s);  // now the holder's own duration has passed too
  EXPECT_TRUE(Eventually([&] { return leads.load(); }));
  a.Stop();
}

// A holder that keeps renewing keeps the lease however long the other waits; releasing it (on
// Stop) hands it over at once.
TEST(LeaderElectionTest, OneHolderAtATimeAndRelease) {
  kite::testing::FakeClock clock;
  auto fake = std::make_shared<testing::FakeTransport>(&clock);
  Client client(fake);
  LeaderElectionConfig c;
  c.lease_name = "test-lock";
  c.identity = "a";
  c.lease_duration = 1s;
  c.renew_deadline = 800ms;
  c.retry_period = 10ms;
  auto a = std::make_unique<LeaderElector>(&client, c, &clock);
  c.identity = "b";
  LeaderElector b(&client, c, &clock);
  std::atomic<bool> a_leads{false}, b_leads{false};
  a->Start([&] { a_leads = true; }, [&] { a_leads = false; });
  ASSERT_TRUE(Eventually([&] { return a_leads.load(); }));
  b.Start([&] { b_leads = true; }, [&] { b_leads = false; });
  // 1.5 s of our clock in steps of 100 ms, each renewed by `a` before the next: `b` never sees
  // one version of the lease stand still for its duration.
  for (int step = 0; step < 15; ++step) {
    clock.Advance(100ms);
    const size_t renewals = LeaseUpdates(*fake);
    ASSERT_TRUE(Eventually([&] { return LeaseUpdates(*fake) > renewals; }));
  }
  ASSERT_NO_FATAL_FAILURE(WaitForAttempts(*fake));
  EXPECT_TRUE(a_leads);
  EXPECT_FALSE(b_leads);
  a.reset();  // releases the lease
  EXPECT_TRUE(Eventually([&] { return b_leads.load(); }));
  EXPECT_EQ(fake->Get(LeaderTestLeases(), "kube-system", "test-lock")->at("spec").at("holderIdentity"), "b");
  b.Stop();
}

}  // namespace
}  // namespace kite::client
