// client/controller_ref_manager.h on the fake API: Claim keeps, adopts and releases as upstream's
// ControllerRefManager does; DependentHandler wakes the right owner and lowers its expectations.
#include "client/controller_ref_manager.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <set>

#include "api/object.h"
#include "api/owner_references.h"
#include "base/testing/fake_clock.h"
#include "client/testing/fake_transport.h"

namespace kite::client {
namespace {
namespace json = boost::json;
using testing::FakeTransport;

const api::ResourceInfo& Pods() { return *api::FindResource("", "v1", "pods"); }

json::object J(std::string_view text) { return json::parse(text).as_object(); }

api::LabelSelector AppWeb() { return *api::LabelSelector::FromLabelSelectorJson(J(R"({"matchLabels":{"app":"web"}})")); }

class ControllerRefManagerTest : public ::testing::Test {
 protected:
  // A ReplicaSet `name` (selector app=web) stored in the fake.
  json::object AddOwner(const std::string& name, bool deleting = false) {
    json::object rs = J(R"({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"namespace":"ns"},
                            "spec":{"selector":{"matchLabels":{"app":"web"}}}})");
    rs["metadata"].as_object()["name"] = name;
    if (deleting) {
      rs["metadata"].as_object()["finalizers"] = json::array{"test/hold"};
      rs["metadata"].as_object()["deletionTimestamp"] = "2026-01-01T00:00:00Z";
    }
    return fake_->Add(std::move(rs));
  }
  // A pod `name` with labels `labels`, controlled by `owner` when given.
  ObjectPtr AddPod(const std::string& name, std::string_view labels, const json::object* owner = nullptr,
                   bool deleting = false) {
    json::object pod = J(R"({"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"ns"},"spec":{}})");
    json::object& meta = pod["metadata"].as_object();
    meta["name"] = name;
    meta["labels"] = J(labels);
    if (owner) meta["ownerReferences"] = json::array{api::ControllerRef(*owner)};
    if (deleting) {
      meta["finalizers"] = json::array{"test/hold"};
      meta["deletionTimestamp"] = "2026-01-01T00:00:00Z";
    }
    return std::make_shared<const json::object>(fake_->Add(std::move(pod)));
  }
  json::object Stored(const std::string& name) { return *fake_->Get(Pods(), "ns", name); }
  std::string ControllerUid(const std::string& name) {
    const json::object stored = Stored(name);
    const json::object* ref = api::ControllerOf(stored);
    return ref ? api::GetString(*ref, "uid") : "";
  }
  static std::set<std::string> Names(const std::vector<ObjectPtr>& objs) {
    std::set<std::string> out;
    for (const auto& o : objs) out.insert(api::Name(*o));
    return out;
  }

  kite::testing::FakeClock clock_;
  std::shared_ptr<FakeTransport> fake_ = std::make_shared<FakeTransport>(&clock_);
  Client client_{fake_};
};

TEST_F(ControllerRefManagerTest, KeepsOwnAdoptsMatchingOrphansReleasesNonMatchingIgnoresOthers) {
  json::object rs = AddOwner("web");
  json::object other = AddOwner("other");
  std::vector<ObjectPtr> candidates{
      AddPod("own", R"({"app":"web"})", &rs),
      AddPod("orphan", R"({"app":"web"})"),
      AddPod("stray", R"({"app":"db"})", &rs),        // controlled by rs, no longer matching
      AddPod("foreign", R"({"app":"web"})", &other),  // another controller's
      AddPod("unrelated", R"({"app":"db"})"),         // orphan that does not match
  };
  fake_->ClearActions();
  ControllerRefManager m(&client_, Pods(), rs, AppWeb());
  Status error;
  std::vector<ObjectPtr> claimed = m.Claim(candidates, &error);
  EXPECT_TRUE(error.ok()) << error.message();
  EXPECT_EQ(Names(claimed), (std::set<std::string>{"own", "orphan"}));
  // The adopted pod is returned as the server answered: with the owner as its controller.
  for (const auto& p : claimed) EXPECT_EQ(api::GetString(*api::ControllerOf(*p), "uid"), api::Uid(rs));
  EXPECT_EQ(ControllerUid("orphan"), api::Uid(rs));
  EXPECT_EQ(ControllerUid("stray"), "");  // released
  EXPECT_TRUE(api::GetArray(api::Metadata(Stored("stray")), "ownerReferences").empty());
  EXPECT_EQ(ControllerUid("foreign"), api::Uid(other));
  EXPECT_EQ(ControllerUid("unrelated"), "");
  // Exactly two writes: the adoption and the release, both patches of pods.
  std::vector<std::string> written;
  for (const auto& a : fake_->Writes()) written.push_back(a.Describe() + " " + a.name);
  EXPECT_EQ(written, (std::vector<std::string>{"patch pods orphan", "patch pods stray"}));
}

TEST_F(ControllerRefManagerTest, DoesNotAdoptWhileTheOwnerOrTheOrphanIsBeingDeleted) {
  json::object dying = AddOwner("dying", /*deleting=*/true);
  ObjectPtr orphan = AddPod("orphan", R"({"app":"web"})");
  fake_->ClearActions();
  Status error;
  EXPECT_TRUE(ControllerRefManager(&client_, Pods(), dying, AppWeb()).Claim({orphan}, &error).empty());
  EXPECT_TRUE(error.ok());

  json::object rs = AddOwner("web");
  ObjectPtr leaving = AddPod("leaving", R"({"app":"web"})", nullptr, /*deleting=*/true);
  fake_->ClearActions();
  EXPECT_TRUE(ControllerRefManager(&client_, Pods(), rs, AppWeb()).Claim({leaving}, &error).empty());
  EXPECT_TRUE(fake_->Writes().empty());
  EXPECT_EQ(ControllerUid("orphan"), "");
}

TEST_F(ControllerRefManagerTest, AdoptionIsPinnedToTheUidAndAGoneOrphanIsNotAnError) {
  json::object rs = AddOwner("web");
  ObjectPtr orphan = AddPod("p", R"({"app":"web"})");
  fake_->ClearActions();
  ControllerRefManager m(&client_, Pods(), rs, AppWeb());
  Status error;
  ASSERT_NE(m.Adopt(*orphan, &error), nullptr);
  // The patch names the orphan's uid: the API server refuses it for an object replaced under the
  // same name (uid is immutable), so adoption never takes over the new one.
  std::vector<client::testing::Action> patches = fake_->Writes("patch", "pods");
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(patches[0].patch_type, "strategic");
  EXPECT_EQ(api::GetString(patches[0].body.as_object(), {"metadata", "uid"}), api::Uid(*orphan));

  ObjectPtr old = AddPod("replaced", R"({"app":"web"})");
  ASSERT_TRUE(client_.Delete(Pods(), "ns", "replaced").ok());
  AddPod("replaced", R"({"app":"web"})");  // a new object under the same name
  Status refused;
  EXPECT_EQ(m.Adopt(*old, &refused), nullptr);
  EXPECT_NE(refused.message().find("field is immutable"), std::string::npos) << refused.message();
  EXPECT_EQ(ControllerUid("replaced"), "");

  ObjectPtr gone = AddPod("gone", R"({"app":"web"})");
  ASSERT_TRUE(client_.Delete(Pods(), "ns", "gone").ok());
  Status none;
  EXPECT_TRUE(m.Claim({gone}, &none).empty());
  EXPECT_TRUE(none.ok()) << none.message();  // NotFound: simply not claimed
}

TEST_F(ControllerRefManagerTest, ReleaseRemovesTheOwnersReferenceAndFinalizersAndReportsFailures) {
  json::object rs = AddOwner("web");
  json::object pod = J(R"({"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"ns","name":"p",
                          "labels":{"app":"db"},"finalizers":["batch.kubernetes.io/job-tracking","keep/me"]}})");
  pod["metadata"].as_object()["ownerReferences"] = json::array{api::ControllerRef(rs)};
  ObjectPtr p = std::make_shared<const json::object>(fake_->Add(std::move(pod)));
  ControllerRefManager m(&client_, Pods(), rs, AppWeb(), {"batch.kubernetes.io/job-tracking"});
  ASSERT_TRUE(m.Release(*p).ok());
  json::object now = Stored("p");
  EXPECT_EQ(api::ControllerOf(now), nullptr);
  EXPECT_EQ(api::GetArray(api::Metadata(now), "finalizers"), (json::array{"keep/me"}));

  // A failure other than NotFound comes back from Claim, with what was claimed so far.
  ObjectPtr own = AddPod("own", R"({"app":"web"})", &rs);
  ObjectPtr stray = AddPod("stray", R"({"app":"db"})", &rs);
  fake_->FailWith("patch", "pods", 500, "InternalError");
  Status error;
  EXPECT_EQ(Names(m.Claim({own, stray}, &error)), (std::set<std::string>{"own"}));
  EXPECT_FALSE(error.ok());
  EXPECT_NE(error.message().find("releasing stray"), std::string::npos) << error.message();
}

TEST_F(ControllerRefManagerTest, AConflictingControllerRefIsNeverTakenOver) {
  json::object rs = AddOwner("web");
  json::object other = AddOwner("other");
  ObjectPtr foreign = AddPod("foreign", R"({"app":"web"})", &other);
  fake_->ClearActions();
  Status error;
  EXPECT_TRUE(ControllerRefManager(&client_, Pods(), rs, AppWeb()).Claim({foreign}, &error).empty());
  EXPECT_TRUE(fake_->Writes().empty());
  EXPECT_EQ(ControllerUid("foreign"), api::Uid(other));
}

// ---- DependentHandler ---------------------------------------------------------------------------

class DependentHandlerTest : public ::testing::Test {
 protected:
  DependentHandlerTest() {
    handler_ = DependentHandler(DependentEvents{
        .queue = &queue_,
        .expectations = &expectations_,
        .owner_key = [](const json::object& dep) { return api::ControllerKeyOf(dep, "ReplicaSet"); },
        .enqueue_adopters = [this](const json::object& orphan) { adopters_.push_back(api::Name(orphan)); },
    });
  }
  static ObjectPtr Pod(std::string_view owner_uid_name, std::string rv, bool deleting = false) {
    json::object p = J(R"({"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"ns","name":"p"}})");
    json::object& meta = p["metadata"].as_object();
    meta["resourceVersion"] = std::move(rv);
    if (!owner_uid_name.empty()) {
      meta["ownerReferences"] = json::array{json::object{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"},
                                                         {"name", owner_uid_name}, {"uid", owner_uid_name},
                                                         {"controller", true}}};
    }
    if (deleting) meta["deletionTimestamp"] = "2026-01-01T00:00:00Z";
    return std::make_shared<const json::object>(std::move(p));
  }
  std::vector<std::string> Drain() {
    std::vector<std::string> keys;
    while (auto k = queue_.TryGet()) {
      keys.push_back(*k);
      queue_.Done(*k);
    }
    return keys;
  }

  kite::testing::FakeClock clock_;
  WorkQueue queue_{"test", std::chrono::milliseconds(5), std::chrono::seconds(1), &clock_};
  Expectations expectations_{&clock_};
  std::vector<std::string> adopters_;
  EventHandler handler_;
};

TEST_F(DependentHandlerTest, AddsAndDeletesAreObservedForTheOwner) {
  expectations_.Expect("ns/a", 1, 1);
  handler_.on_add(Pod("a", "1"));
  EXPECT_EQ(Drain(), (std::vector<std::string>{"ns/a"}));
  EXPECT_FALSE(expectations_.Satisfied("ns/a"));  // the deletion is still expected
  handler_.on_update(Pod("a", "1"), Pod("a", "2", /*deleting=*/true));
  EXPECT_EQ(Drain(), (std::vector<std::string>{"ns/a"}));
  EXPECT_TRUE(expectations_.Satisfied("ns/a"));
  // The final delete of a pod already seen terminating only wakes the owner: not counted twice.
  expectations_.Expect("ns/a", 0, 1);
  handler_.on_delete(Pod("a", "3", /*deleting=*/true));
  EXPECT_EQ(Drain(), (std::vector<std::string>{"ns/a"}));
  EXPECT_FALSE(expectations_.Satisfied("ns/a"));
  // A delete never seen terminating is the observed deletion.
  handler_.on_delete(Pod("a", "4"));
  EXPECT_TRUE(expectations_.Satisfied("ns/a"));
  // A pod first seen terminating (relist) counts as a deletion, not a creation.
  expectations_.Expect("ns/a", 1, 1);
  handler_.on_add(Pod("a", "5", /*deleting=*/true));
  EXPECT_EQ(Drain(), (std::vector<std::string>{"ns/a"}));
  EXPECT_FALSE(expectations_.Satisfied("ns/a"));
  expectations_.CreationObserved("ns/a");
  EXPECT_TRUE(expectations_.Satisfied("ns/a"));
}

TEST_F(DependentHandlerTest, ControllerChangeWakesBothOrphansWakeAdoptersRelistWakesNobody) {
  handler_.on_update(Pod("a", "1"), Pod("b", "2"));
  std::vector<std::string> keys = Drain();
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()), (std::set<std::string>{"ns/a", "ns/b"}));
  handler_.on_update(Pod("a", "2"), Pod("", "3"));  // released: the old owner and the adopters
  EXPECT_EQ(Drain(), (std::vector<std::string>{"ns/a"}));
  EXPECT_EQ(adopters_, (std::vector<std::string>{"p"}));
  handler_.on_add(Pod("", "4"));
  EXPECT_EQ(adopters_.size(), 2u);
  EXPECT_TRUE(Drain().empty());
  handler_.on_update(Pod("a", "5"), Pod("a", "5"));  // same resourceVersion: a resync
  EXPECT_TRUE(Drain().empty());
}

}  // namespace
}  // namespace kite::client
