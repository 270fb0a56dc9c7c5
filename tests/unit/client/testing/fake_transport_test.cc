// The fake API behaves as the API server does where controllers rely on it: generated fields,
// optimistic concurrency, status subresource, patches, finalizers, watch from a resourceVersion,
// recorded actions and reactors.
#include "client/testing/fake_transport.h"

#include <gtest/gtest.h>

#include <mutex>

#include "base/testing/fake_clock.h"
#include "api/object.h"
#include "client/client.h"
#include "tests/unit/server/apiserver/test_server.h"

namespace kite::client::testing {
namespace {
namespace json = boost::json;

const api::ResourceInfo& Pods() { return *api::FindResource("", "v1", "pods"); }
const api::ResourceInfo& Deployments() { return *api::FindResource("apps", "v1", "deployments"); }

json::object J(const char* text) { return json::parse(text).as_object(); }

class FakeTransportTest : public ::testing::Test {
 protected:
  kite::testing::FakeClock clock_;
  std::shared_ptr<FakeTransport> fake_ = std::make_shared<FakeTransport>(&clock_);
  Client client_{fake_};
};

TEST_F(FakeTransportTest, CreateFillsInWhatTheServerWouldAndRefusesDuplicates) {
  auto a = client_.Create(Pods(), "ns", J(R"({"metadata":{"generateName":"web-"},"spec":{}})"));
  ASSERT_TRUE(a.ok());
  const auto& m = a->at("metadata").as_object();
  EXPECT_EQ(m.at("name").as_string().subview().substr(0, 4), "web-");
  EXPECT_EQ(m.at("namespace"), "ns");
  EXPECT_FALSE(m.at("uid").as_string().empty());
  EXPECT_EQ(m.at("creationTimestamp"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(a->at("kind"), "Pod");
  auto b = client_.Create(Pods(), "ns", J(R"({"metadata":{"name":"x"}})"));
  ASSERT_TRUE(b.ok());
  auto dup = client_.Create(Pods(), "ns", J(R"({"metadata":{"name":"x"}})"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().reason(), "AlreadyExists");
  EXPECT_TRUE(client_.Get(Pods(), "other", "x").NotFound());
}

TEST_F(FakeTransportTest, UpdatesAreOptimisticAndStatusIsASubresource) {
  auto d = client_.Create(Deployments(), "ns", J(R"({"metadata":{"name":"d"},"spec":{"replicas":1},"status":{"replicas":9}})"));
  ASSERT_TRUE(d.ok());
  json::object stale = *d;
  json::object next = *d;
  next["spec"].as_object()["replicas"] = 2;
  next["status"] = J(R"({"replicas":5})");
  auto u = client_.Update(Deployments(), "ns", next);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->at("metadata").at("generation"), 2);  // spec changed
  EXPECT_EQ(u->at("status").at("replicas"), 9);       // the main resource keeps the stored status
  auto conflict = client_.Update(Deployments(), "ns", stale);
  ASSERT_FALSE(conflict.ok());
  EXPECT_TRUE(conflict.Conflict());
  json::object st = *u;
  st["status"] = J(R"({"replicas":2})");
  st["spec"].as_object()["replicas"] = 7;
  auto s = client_.UpdateStatus(Deployments(), "ns", st);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->at("status").at("replicas"), 2);
  EXPECT_EQ(s->at("spec").at("replicas"), 2);  // the status subresource changes only status
}

TEST_F(FakeTransportTest, PatchesOfEveryTypeAndPinnedResourceVersions) {
  auto p = client_.Create(Pods(), "ns", J(R"({"metadata":{"name":"p","labels":{"a":"1"}},
      "spec":{"containers":[{"name":"c","image":"x:1"},{"name":"d","image":"y:1"}]}})"));
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(client_.Patch(Pods(), "ns", "p", PatchType::kMerge, R"({"metadata":{"labels":{"b":"2"}}})").ok());
  // Strategic merge patches merge containers by name.
  ASSERT_TRUE(client_.Patch(Pods(), "ns", "p", PatchType::kStrategic,
                            R"({"spec":{"containers":[{"name":"d","image":"y:2"}]}})").ok());
  ASSERT_TRUE(client_.Patch(Pods(), "ns", "p", PatchType::kJson, R"([{"op":"remove","path":"/metadata/labels/a"}])").ok());
  json::object got = *fake_->Get(Pods(), "ns", "p");
  EXPECT_EQ(got.at("metadata").at("labels"), J(R"({"b":"2"})"));
  EXPECT_EQ(got.at("spec").at("containers").as_array().size(), 2u);
  EXPECT_EQ(got.at("spec").at("containers").as_array()[1].at("image"), "y:2");
  auto pinned = client_.Patch(Pods(), "ns", "p", PatchType::kMerge, R"({"metadata":{"resourceVersion":"1"}})");
  ASSERT_FALSE(pinned.ok());
  EXPECT_TRUE(pinned.Conflict());
  std::vector<std::string> kinds;
  for (const auto& a : fake_->Writes()) kinds.push_back(a.verb + ":" + a.patch_type);
  EXPECT_EQ(kinds, (std::vector<std::string>{"create:", "patch:merge", "patch:strategic", "patch:json", "patch:merge"}));
}

TEST_F(FakeTransportTest, FinalizersHoldADeleteUntilTheyGo) {
  ASSERT_TRUE(client_.Create(Pods(), "ns", J(R"({"metadata":{"name":"p","finalizers":["x/y"]}})")).ok());
  auto d = client_.Delete(Pods(), "ns", "p");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->at("metadata").as_object().contains("deletionTimestamp"));
  ASSERT_TRUE(fake_->Get(Pods(), "ns", "p").has_value());
  ASSERT_TRUE(client_.Patch(Pods(), "ns", "p", PatchType::kMerge, R"({"metadata":{"finalizers":null}})").ok());
  EXPECT_FALSE(fake_->Get(Pods(), "ns", "p").has_value());
  // Foreground adds its finalizer; a uid precondition that does not hold is a conflict.
  auto q = client_.Create(Pods(), "ns", J(R"({"metadata":{"name":"q"}})"));
  ASSERT_TRUE(q.ok());
  DeleteParams wrong;
  wrong.precondition_uid = "not-it";
  EXPECT_TRUE(client_.Delete(Pods(), "ns", "q", wrong).Conflict());
  DeleteParams fg;
  fg.propagation_policy = "Foreground";
  auto f = client_.Delete(Pods(), "ns", "q", fg);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->at("metadata").at("finalizers"), (json::array{"foregroundDeletion"}));
}

TEST_F(FakeTransportTest, ListsSelectAndWatchesResumeFromAResourceVersion) {
  ASSERT_TRUE(client_.Create(Pods(), "a", J(R"({"metadata":{"name":"p1","labels":{"app":"web"}},"spec":{"nodeName":"n1"}})")).ok());
  ASSERT_TRUE(client_.Create(Pods(), "b", J(R"({"metadata":{"name":"p2","labels":{"app":"db"}},"spec":{"nodeName":"n2"}})")).ok());
  ListParams by_label;
  by_label.label_selector = "app=web";
  auto l = client_.List(Pods(), "", by_label);
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->at("items").as_array().size(), 1u);
  ListParams by_field;
  by_field.field_selector = "spec.nodeName=n2";
  EXPECT_EQ(client_.List(Pods(), "", by_field)->at("items").as_array().size(), 1u);
  EXPECT_EQ(client_.List(Pods(), "a")->at("items").as_array().size(), 1u);

  const std::string rv(l->at("metadata").at("resourceVersion").as_string());
  ASSERT_TRUE(client_.Create(Pods(), "a", J(R"({"metadata":{"name":"p3"}})")).ok());
  std::mutex mu;
  std::vector<std::string> seen;
  ListParams from;
  from.resource_version = rv;
  auto w = client_.Watch(
      Pods(), "", from,
      [&](WatchEvent ev) {
        std::lock_guard lock(mu);
        seen.push_back(ev.type + " " + std::string(ev.object.at("metadata").at("name").as_string()));
      },
      [](Status) {});
  ASSERT_TRUE(client_.Delete(Pods(), "b", "p2").ok());
  fake_->WaitForIdle();
  std::lock_guard lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED p3", "DELETED p2"}));
}

TEST_F(FakeTransportTest, ReactorsAnswerFirstAndActionsAreStillRecorded) {
  fake_->FailWith("create", "pods", 403, "Forbidden", "quota");
  auto r = client_.Create(Pods(), "ns", J(R"({"metadata":{"name":"p"}})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().http_code(), 403);
  EXPECT_EQ(r.error().reason(), "Forbidden");
  EXPECT_FALSE(fake_->Get(Pods(), "ns", "p").has_value());
  auto writes = fake_->Writes("create", "pods");
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].code, 403);
  EXPECT_EQ(writes[0].ns, "ns");
  fake_->ClearReactors();
  EXPECT_TRUE(client_.Create(Pods(), "ns", J(R"({"metadata":{"name":"p"}})")).ok());
}

// A patch that changes metadata.uid is refused, with the Status the API server answers (an
// adoption patch names the orphan's uid so that it never takes over an object recreated under
// the same name). Both answers are compared: the fake's and a real server's in this process.
TEST(FakeTransportParity, APatchChangingTheUidIsRefusedAsTheServerRefusesIt) {
  const std::string patch = R"({"metadata":{"uid":"00000000-0000-4000-8000-000000000000","labels":{"a":"b"}}})";
  auto refuse = [&](const Client& c) -> Status {
    auto made = c.Create(Pods(), "default", J(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"busybox"}]}})"));
    EXPECT_TRUE(made.ok()) << made.error().message();
    auto before = c.Get(Pods(), "default", "p");
    for (PatchType type : {PatchType::kStrategic, PatchType::kMerge}) {
      auto r = c.Patch(Pods(), "default", "p", type, patch);
      EXPECT_FALSE(r.ok()) << "a patch changing the uid was accepted";
      if (r.ok()) return Status::Ok();
    }
    // The same uid is no change: accepted.
    const std::string same = R"({"metadata":{"uid":")" + api::Uid(*before) + R"(","labels":{"a":"b"}}})";
    auto ok = c.Patch(Pods(), "default", "p", PatchType::kMerge, same);
    EXPECT_TRUE(ok.ok()) << ok.error().message();
    auto after = c.Get(Pods(), "default", "p");
    EXPECT_EQ(api::Uid(*after), api::Uid(*before));
    return c.Patch(Pods(), "default", "p", PatchType::kMerge, patch).error();
  };
  kite::testing::FakeClock clock;
  Client fake(std::make_shared<FakeTransport>(&clock));
  const Status from_fake = refuse(fake);

  kite::testing::InProcessApiServer server;
  ASSERT_NO_FATAL_FAILURE(server.Start());
  auto real = server.AdminClient();
  const Status from_server = refuse(*real);
  real.reset();

  EXPECT_EQ(from_fake.http_code(), from_server.http_code());
  EXPECT_EQ(from_fake.reason(), from_server.reason());
  // The message names the uids; both name the stored one and the patch's.
  EXPECT_NE(from_server.message().find("00000000-0000-4000-8000-000000000000"), std::string::npos) << from_server.message();
  EXPECT_NE(from_fake.message().find("00000000-0000-4000-8000-000000000000"), std::string::npos) << from_fake.message();
  EXPECT_EQ(from_fake.message().substr(0, 40), from_server.message().substr(0, 40));
}

// A PUT whose body names another metadata.uid (an object deleted and recreated under its name
// since the writer read it) is 409 Conflict, as upstream's precondition from the object's uid;
// the stored object is unchanged. The same uid, or none, is an ordinary update. Fake and server
// answer alike, message included (but for the stored uid, which each made up).
TEST(FakeTransportParity, AnUpdateNamingAnotherUidIsAConflictAsOnTheServer) {
  const std::string other = "00000000-0000-4000-8000-000000000000";
  const api::ResourceInfo& cms = *api::FindResource("", "v1", "configmaps");
  auto refuse = [&](const Client& c) -> std::pair<Status, std::string> {
    auto made = c.Create(cms, "default", J(R"({"metadata":{"name":"c"},"data":{"k":"1"}})"));
    EXPECT_TRUE(made.ok()) << made.error().message();
    if (!made.ok()) return {Status::Ok(), ""};
    const std::string uid = api::Uid(*made);
    json::object body = *made;
    body["data"] = J(R"({"k":"2"})");
    auto& m = body["metadata"].as_object();
    m["uid"] = other;
    auto r = c.Update(cms, "default", body);
    EXPECT_FALSE(r.ok()) << "an update naming another uid was accepted";
    if (r.ok()) return {Status::Ok(), uid};
    // A stale resourceVersion too: the uid is checked first.
    m["resourceVersion"] = "1";
    auto stale = c.Update(cms, "default", body);
    EXPECT_FALSE(stale.ok());
    if (!stale.ok()) {
      EXPECT_EQ(stale.error().message(), r.error().message());
    }
    auto kept = c.Get(cms, "default", "c");
    EXPECT_EQ(api::GetString(kept->at("data").as_object(), "k"), "1");
    EXPECT_EQ(api::Uid(*kept), uid);
    // The stored uid, or none, updates.
    json::object same = *kept;
    same["data"] = J(R"({"k":"3"})");
    auto ok = c.Update(cms, "default", same);
    EXPECT_TRUE(ok.ok()) << ok.error().message();
    json::object none = *ok;
    none["data"] = J(R"({"k":"4"})");
    none["metadata"].as_object().erase("uid");
    auto ok2 = c.Update(cms, "default", none);
    EXPECT_TRUE(ok2.ok()) << ok2.error().message();
    if (ok2.ok()) {
      EXPECT_EQ(api::Uid(*ok2), uid);
    }
    return {r.error(), uid};
  };
  kite::testing::FakeClock clock;
  Client fake(std::make_shared<FakeTransport>(&clock));
  auto [from_fake, fake_uid] = refuse(fake);

  kite::testing::InProcessApiServer server;
  ASSERT_NO_FATAL_FAILURE(server.Start());
  auto real = server.AdminClient();
  auto [from_server, server_uid] = refuse(*real);
  real.reset();

  EXPECT_EQ(from_server.http_code(), 409);
  EXPECT_EQ(from_server.reason(), "Conflict");
  EXPECT_EQ(from_server.message(),
            "Operation cannot be fulfilled on configmaps \"c\": StorageError: invalid object, Code: 4, Key: "
            "/registry/configmaps/default/c, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: "
            "UID in precondition: " + other + ", UID in object meta: " + server_uid);
  EXPECT_EQ(from_fake.http_code(), from_server.http_code());
  EXPECT_EQ(from_fake.reason(), from_server.reason());
  std::string fake_message = from_fake.message();
  if (auto at = fake_message.rfind(fake_uid); at != std::string::npos) fake_message.replace(at, fake_uid.size(), server_uid);
  EXPECT_EQ(fake_message, from_server.message());
}

}  // namespace
}  // namespace kite::client::testing
