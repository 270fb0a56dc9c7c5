// TokenFileTransport: the service-account token is read from its file again when due and after
// a 401, so kite-dns keeps working across the kubelet's rotation of a projected token.
#include "client/in_cluster.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace kite::client {
namespace {

// Answers 200 while its token is the accepted one, else 401; counts its requests.
struct FakeApi {
  std::string accepted;
  int requests = 0;
};

class TokenTransport final : public client::Transport {
 public:
  TokenTransport(FakeApi* api, std::string token) : api_(api), token_(std::move(token)) {}
  client::Response Do(const client::Request&) override {
    ++api_->requests;
    return client::Response{token_ == api_->accepted ? 200 : 401, token_, ""};
  }
  std::unique_ptr<client::WatchStream> Watch(const client::Request&, std::function<void(std::string_view)>,
                                             std::function<void(client::Response)> on_end) override {
    on_end(client::Response{token_ == api_->accepted ? 200 : 401, token_, ""});
    return nullptr;
  }

 private:
  FakeApi* api_;
  std::string token_;
};

class TokenFileTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kite-token-test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/token";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& token) {
    // As the kubelet does: a new file renamed over the old one.
    std::ofstream(path_ + ".new") << token;
    std::filesystem::rename(path_ + ".new", path_);
  }
  TokenFileTransport::Factory Factory() {
    return [this](const std::string& token) -> Result<std::shared_ptr<client::Transport>> {
      return std::shared_ptr<client::Transport>(std::make_shared<TokenTransport>(&api_, token));
    };
  }
  std::string dir_, path_;
  FakeApi api_;
};

TEST_F(TokenFileTransportTest, ReReadsTheTokenAfterA401) {
  Write("one\n");
  api_.accepted = "one";
  auto t = TokenFileTransport::Create(path_, Factory(), std::chrono::hours(1));
  ASSERT_TRUE(t.ok());
  auto r = (*t)->Do(client::Request{});
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.body, "one");  // the trailing newline is not part of the token
  // The kubelet rotates the token and the old one stops working before the hour is up.
  Write("two");
  api_.accepted = "two";
  r = (*t)->Do(client::Request{});
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.body, "two");
  EXPECT_EQ(api_.requests, 3);  // one 401, one retry with the new token
  EXPECT_EQ((*t)->rotations(), 1);
}

TEST_F(TokenFileTransportTest, ReReadsWhenDueWithoutWaitingForA401) {
  Write("one");
  api_.accepted = "one";
  auto t = TokenFileTransport::Create(path_, Factory(), std::chrono::seconds(0));  // due at every request
  ASSERT_TRUE(t.ok());
  Write("two");
  api_.accepted = "two";
  auto r = (*t)->Do(client::Request{});
  EXPECT_EQ(r.body, "two");
  EXPECT_EQ(api_.requests, 1);
  // Watches start with the newest token too.
  Write("three");
  api_.accepted = "three";
  int end_code = 0;
  (*t)->Watch(client::Request{}, [](std::string_view) {}, [&](client::Response e) { end_code = e.code; });
  EXPECT_EQ(end_code, 200);
}

TEST_F(TokenFileTransportTest, KeepsTheTokenItHasWhenTheFileIsUnreadable) {
  Write("one");
  api_.accepted = "one";
  auto t = TokenFileTransport::Create(path_, Factory(), std::chrono::seconds(0));
  ASSERT_TRUE(t.ok());
  std::filesystem::remove(path_);
  EXPECT_EQ((*t)->Do(client::Request{}).code, 200);
  api_.accepted = "other";
  EXPECT_EQ((*t)->Do(client::Request{}).code, 401);  // no newer token to try: the 401 stands
}

TEST_F(TokenFileTransportTest, FailsWithoutAToken) {
  EXPECT_FALSE(TokenFileTransport::Create(path_, Factory()).ok());
  Write("\n");
  EXPECT_FALSE(TokenFileTransport::Create(path_, Factory()).ok());
}

TEST(InClusterConfig, NeedsThePodsEnvironment) {
  unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_FALSE(InClusterConfig("/nonexistent").ok());
}

}  // namespace
}  // namespace kite::client
