// client/status_update.cc on the fake API: UpdateStatusIfChanged writes only a changed status,
// through the status subresource, hands back what the server stored, takes a gone object as
// done, and keeps the client's error reason (a controller branches on Conflict).
#include "client/status_update.h"

#include <gtest/gtest.h>

#include "api/object.h"
#include "base/testing/fake_clock.h"
#include "client/testing/fake_transport.h"

namespace kite::client {
namespace {
namespace json = boost::json;

const api::ResourceInfo& StatusTestSets() { return *api::FindResource("apps", "v1", "replicasets"); }

class UpdateStatusIfChangedTest : public ::testing::Test {
 protected:
  UpdateStatusIfChangedTest() : fake_(std::make_shared<testing::FakeTransport>(&clock_)), client_(fake_) {
    stored_ = fake_->Add(json::parse(R"({"apiVersion":"apps/v1","kind":"ReplicaSet",
        "metadata":{"name":"rs","namespace":"ns"},"spec":{"replicas":2},
        "status":{"replicas":1,"observedGeneration":1}})").as_object());
  }
  kite::testing::FakeClock clock_;
  std::shared_ptr<testing::FakeTransport> fake_;
  Client client_;
  json::object stored_;
};

TEST_F(UpdateStatusIfChangedTest, NoWriteWhenUnchanged) {
  std::optional<json::object> written;
  EXPECT_TRUE(UpdateStatusIfChanged(client_, StatusTestSets(), stored_, api::GetObject(stored_, "status"), &written).ok());
  EXPECT_FALSE(written.has_value());
  EXPECT_TRUE(fake_->Writes().empty());
}

TEST_F(UpdateStatusIfChangedTest, WritesAChangedStatusThroughTheSubresource) {
  json::object status = api::GetObject(stored_, "status");
  status["replicas"] = 2;
  std::optional<json::object> written;
  ASSERT_TRUE(UpdateStatusIfChanged(client_, StatusTestSets(), stored_, status, &written).ok());
  auto updates = fake_->Writes("update", "replicasets", "status");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].ns, "ns");
  EXPECT_EQ(updates[0].name, "rs");
  ASSERT_TRUE(written.has_value());
  EXPECT_EQ(api::GetInt(*written, {"status", "replicas"}), 2);
  EXPECT_NE(api::ResourceVersion(*written), api::ResourceVersion(stored_));
  // Without `written` too.
  status["replicas"] = 3;
  EXPECT_TRUE(UpdateStatusIfChanged(client_, StatusTestSets(), *written, status).ok());
  EXPECT_EQ(api::GetInt(*fake_->Get(StatusTestSets(), "ns", "rs"), {"status", "replicas"}), 3);
}

TEST_F(UpdateStatusIfChangedTest, AGoneObjectIsDone) {
  fake_->FailWith("update", "replicasets", 404, "NotFound", "replicasets.apps \"rs\" not found");
  json::object status{{"replicas", 5}};
  std::optional<json::object> written = json::object{{"stale", true}};
  EXPECT_TRUE(UpdateStatusIfChanged(client_, StatusTestSets(), stored_, status, &written).ok());
  EXPECT_FALSE(written.has_value());
}

TEST_F(UpdateStatusIfChangedTest, KeepsTheReasonOfOtherErrors) {
  json::object older = stored_;
  json::object status{{"replicas", 5}};
  ASSERT_TRUE(UpdateStatusIfChanged(client_, StatusTestSets(), stored_, status).ok());  // moves the version on
  status["replicas"] = 6;
  Status s = UpdateStatusIfChanged(client_, StatusTestSets(), older, status);  // the old version: 409
  EXPECT_TRUE(s.IsConflict());
  EXPECT_EQ(s.reason(), "Conflict");
  EXPECT_EQ(s.message().rfind("updating replicasets/status: ", 0), 0u) << s.message();

  fake_->FailWith("update", "replicasets", 422, "Invalid", "status.replicas: Invalid value");
  s = UpdateStatusIfChanged(client_, StatusTestSets(), stored_, json::object{{"replicas", -1}});
  EXPECT_EQ(s.reason(), "Invalid");
  EXPECT_EQ(s.http_code(), 422);
}

}  // namespace
}  // namespace kite::client
