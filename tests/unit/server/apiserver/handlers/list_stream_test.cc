// A LIST streamed from the stored text (handlers/list_stream.h) against Registry::List, which
// decodes every object: the same bytes for every option that narrows or pages a list.
#include "server/apiserver/handlers/list_stream.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <future>
#include <string>

#include "server/apiserver/storage/registry.h"
#include "tests/unit/datastore/test_util.h"

namespace kite::apiserver {
namespace {
namespace asio = boost::asio;
namespace json = boost::json;

class CapturingResponder final : public HttpsResponder {
 public:
  asio::awaitable<void> Send(int status, std::string, std::string b, Headers) override {
    code = status;
    body = std::move(b);
    ended = true;
    co_return;
  }
  asio::awaitable<bool> BeginStream(int status, std::string, Headers) override {
    code = status;
    co_return true;
  }
  asio::awaitable<bool> WriteChunk(std::string data) override {
    body += data;
    ++chunks;
    co_return true;
  }
  asio::awaitable<void> EndStream() override {
    ended = true;
    co_return;
  }
  int code = 0, chunks = 0;
  bool ended = false;
  std::string body;
};

template <class T>
T RunToEnd(asio::awaitable<T> op) {
  asio::io_context io;
  auto f = asio::co_spawn(io, std::move(op), asio::use_future);
  io.run();
  return f.get();
}

class ListStreamTest : public ::testing::Test {
 protected:
  ListStreamTest() : dir_(datastore::testing::TempDir()), store_(datastore::testing::Open(dir_ + "/db")) {}
  ~ListStreamTest() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Put(const std::string& key, const std::string& value) {
    datastore::TxnRequest t;
    t.success.push_back(datastore::testing::PutOp(key, value));
    std::promise<void> done;
    store_->Txn(std::move(t), [&](Result<datastore::TxnResponse> r) {
      EXPECT_TRUE(r.ok());
      done.set_value();
    });
    done.get_future().wait();
  }

  // Both answers for the query `query` (name=value pairs) of configmaps in `ns`.
  void ExpectSame(const std::string& ns, std::multimap<std::string, std::string> query) {
    const api::ResourceInfo* r = api::FindResource("", "v1", "configmaps");
    ASSERT_NE(r, nullptr);
    HttpsRequest req;
    req.method = "GET";
    req.query = std::move(query);
    auto opts = ParseListOptions(req, *r);
    ASSERT_TRUE(opts.ok());
    ASSERT_TRUE(StreamableList(*r, req));
    Registry registry(store_.get());
    auto decoded = RunToEnd(registry.List(*r, ns, opts.value()));
    CapturingResponder res;
    auto streamed = RunToEnd(StreamList(res, store_.get(), *r, ns, opts.value()));
    ASSERT_EQ(decoded.ok(), streamed.ok());
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.error().message(), streamed.error().message());
      EXPECT_EQ(res.code, 0) << "nothing is written for an error";
      return;
    }
    EXPECT_TRUE(streamed->streamed);
    EXPECT_EQ(res.code, 200);
    EXPECT_TRUE(res.ended);
    EXPECT_EQ(res.body, json::serialize(decoded.value()));
    last_ = decoded.value();
    last_chunks_ = res.chunks;
  }

  std::string dir_;
  std::unique_ptr<datastore::Store> store_;
  json::object last_;
  int last_chunks_ = 0;
};

std::string ConfigMap(const std::string& ns, const std::string& name, const std::string& labels, size_t size) {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name + R"(","namespace":")" + ns +
         R"(","uid":"u-)" + name + R"(")" + labels + R"(},"data":{"k":")" + std::string(size, 'v') + R"("}})";
}

TEST_F(ListStreamTest, SameBytesAsTheDecodedList) {
  for (int i = 0; i < 40; ++i) {
    const std::string name = "cm-" + std::to_string(100 + i);
    const std::string labels = i % 3 == 0 ? R"(,"labels":{"app":"web"})" : i % 3 == 1 ? R"(,"labels":{"app":"db"})" : "";
    Put("/registry/configmaps/default/" + name, ConfigMap("default", name, labels, 5000));
  }
  Put("/registry/configmaps/other/cm-a", ConfigMap("other", "cm-a", R"(,"labels":{"app":"web"})", 10));
  // Text the scan declines (whitespace): decoded and re-encoded, still the same answer.
  Put("/registry/configmaps/other/cm-b", R"({ "kind":"ConfigMap", "metadata":{"name":"cm-b","namespace":"other"}})");
  // A stored resourceVersion (written through the etcd endpoint): replaced in place.
  Put("/registry/configmaps/other/cm-c", R"({"kind":"ConfigMap","metadata":{"name":"cm-c","resourceVersion":"3","namespace":"other"}})");
  // Not an object: left out by both.
  Put("/registry/configmaps/other/cm-d", "not json");
  Put("/registry/configmaps/other/cm-e", "[1,2]");
  // Another resource under a neighbouring prefix: never in the list.
  Put("/registry/configmapsx/default/x", ConfigMap("default", "x", "", 1));

  ExpectSame("", {});
  EXPECT_EQ(last_["items"].as_array().size(), 43u);
  EXPECT_GT(last_chunks_, 2) << "a 200 KB list leaves in several chunks";
  ExpectSame("default", {});
  ExpectSame("other", {});
  EXPECT_EQ(last_chunks_, 0) << "a small one whole";
  ExpectSame("nowhere", {});
  ExpectSame("", {{"labelSelector", "app=web"}});
  ExpectSame("", {{"labelSelector", "app!=web"}});
  ExpectSame("", {{"fieldSelector", "metadata.name=cm-a"}});
  ExpectSame("", {{"fieldSelector", "metadata.namespace!=default"}});
  ExpectSame("default", {{"limit", "7"}});
  EXPECT_TRUE(last_["metadata"].as_object().contains("remainingItemCount"));
  const std::string token(last_["metadata"].as_object()["continue"].as_string());
  ExpectSame("default", {{"limit", "7"}, {"continue", token}});
  ExpectSame("", {{"limit", "5"}, {"labelSelector", "app=db"}});
  ExpectSame("", {{"limit", "50"}});
  ExpectSame("", {{"limit", "43"}});
  ExpectSame("", {{"resourceVersion", "5"}, {"resourceVersionMatch", "Exact"}});
  ExpectSame("", {{"resourceVersionMatch", "Exact"}});  // 400, from both
}

TEST_F(ListStreamTest, OnlyWhatNeedsNoDecoding) {
  HttpsRequest plain;
  const api::ResourceInfo* cm = api::FindResource("", "v1", "configmaps");
  const api::ResourceInfo* events = api::FindResource("events.k8s.io", "v1", "events");
  ASSERT_NE(cm, nullptr);
  ASSERT_NE(events, nullptr);
  EXPECT_TRUE(StreamableList(*cm, plain));
  EXPECT_FALSE(StreamableList(*events, plain)) << "Events are converted between versions";
  HttpsRequest table;
  table.headers["accept"] = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
  EXPECT_FALSE(StreamableList(*cm, table));
}

}  // namespace
}  // namespace kite::apiserver
