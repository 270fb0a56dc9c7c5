// bad_input: requests etcd rejects, sent to the server named by KITE_ETCD_ENDPOINT (host:port).
// The same binary runs against kite-server and against a real etcd; each test asserts etcd's
// exact gRPC status code and message (clients match on the text), that the store revision did
// not move, and that the server still answers afterwards.
#include <cstdlib>
#include <future>
#include <memory>
#include <string>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace {

using etcdserverpb::Compare;
using grpc::StatusCode;

constexpr char kTooLarge[] = "etcdserver: request is too large";
constexpr char kEmptyKey[] = "etcdserver: key is not provided";
constexpr char kDuplicate[] = "etcdserver: duplicate key given in txn request";
constexpr char kTooManyOps[] = "etcdserver: too many operations in txn request";
constexpr char kLeaseNotFound[] = "etcdserver: requested lease not found";
constexpr char kFutureRev[] = "etcdserver: mvcc: required revision is a future revision";
constexpr char kCompacted[] = "etcdserver: mvcc: required revision has been compacted";
constexpr char kKeyNotFound[] = "etcdserver: key not found";
constexpr char kValueProvided[] = "etcdserver: value is provided";
constexpr char kLeaseProvided[] = "etcdserver: lease is provided";
constexpr char kLeaseExists[] = "etcdserver: lease already exists";
constexpr char kTtlTooLarge[] = "etcdserver: too large lease TTL";

std::chrono::system_clock::time_point Deadline(int seconds = 10) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* ep = std::getenv("KITE_ETCD_ENDPOINT");
    ASSERT_NE(ep, nullptr) << "set KITE_ETCD_ENDPOINT=host:port";
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(-1);  // let the server, not the client, refuse big requests
    args.SetMaxReceiveMessageSize(-1);
    channel_ = grpc::CreateCustomChannel(ep, grpc::InsecureChannelCredentials(), args);
    kv_ = etcdserverpb::KV::NewStub(channel_);
    lease_ = etcdserverpb::Lease::NewStub(channel_);
    // A known key, so that the store is not empty.
    ASSERT_TRUE(Put("bad-input/existing", "v").ok());
    before_ = Revision();
    ASSERT_GT(before_, 1);
  }

  // Every test ends here: the failed request changed nothing and the server still answers.
  void TearDown() override {
    if (before_ > 0) {
      EXPECT_EQ(Revision(), before_) << "a rejected request changed the store revision";
    }
  }

  // The current revision from a read; fails the test if the server does not answer.
  int64_t Revision() {
    etcdserverpb::RangeRequest req;
    req.set_key("bad-input/existing");
    etcdserverpb::RangeResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::Status st = kv_->Range(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << "server stopped answering: " << st.error_code() << " " << st.error_message();
    return st.ok() ? resp.header().revision() : -1;
  }

  grpc::Status Put(const std::string& key, const std::string& value, int64_t lease = 0) {
    etcdserverpb::PutRequest req;
    req.set_key(key);
    req.set_value(value);
    req.set_lease(lease);
    return Put(req);
  }
  grpc::Status Put(const etcdserverpb::PutRequest& req) {
    etcdserverpb::PutResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline(30));
    return kv_->Put(&ctx, req, &resp);
  }
  grpc::Status Range(const etcdserverpb::RangeRequest& req, etcdserverpb::RangeResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    return kv_->Range(&ctx, req, resp);
  }
  grpc::Status Txn(const etcdserverpb::TxnRequest& req, etcdserverpb::TxnResponse* resp = nullptr) {
    etcdserverpb::TxnResponse local;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    return kv_->Txn(&ctx, req, resp ? resp : &local);
  }
  int64_t Grant(int64_t ttl) {
    etcdserverpb::LeaseGrantRequest req;
    req.set_ttl(ttl);
    etcdserverpb::LeaseGrantResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::Status st = lease_->LeaseGrant(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.id();
  }
  void Revoke(int64_t id) {
    etcdserverpb::LeaseRevokeRequest req;
    req.set_id(id);
    etcdserverpb::LeaseRevokeResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    EXPECT_TRUE(lease_->LeaseRevoke(&ctx, req, &resp).ok());
  }
  // A lease id nobody granted (etcd ids are positive int64).
  static constexpr int64_t kUnknownLease = 0x0badbadbadbad1ll;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  int64_t before_ = 0;
};

#define EXPECT_STATUS(st, code, msg)                                               \
  do {                                                                             \
    const grpc::Status& s_ = (st);                                                 \
    EXPECT_EQ(s_.error_code(), (code)) << "message: " << s_.error_message();       \
    EXPECT_EQ(s_.error_message(), std::string(msg));                               \
  } while (0)

TEST_F(BadInput, PutValueOverMaxRequestBytes) {
  // 1.6 MiB: passes gRPC's receive limit, fails etcd's 1.5 MiB request limit.
  EXPECT_STATUS(Put("bad-input/big", std::string(1677722, 'x')), StatusCode::INVALID_ARGUMENT, kTooLarge);
}

TEST_F(BadInput, PutValueOverGrpcMessageLimit) {
  // 3 MiB: over gRPC's receive limit (etcd: request limit + 512 KiB); the text comes from the
  // gRPC library, so only the code is etcd's contract.
  grpc::Status st = Put("bad-input/huge", std::string(3 * 1024 * 1024, 'x'));
  EXPECT_EQ(st.error_code(), StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
}

TEST_F(BadInput, TxnOverMaxRequestBytes) {
  etcdserverpb::TxnRequest req;
  for (int i = 0; i < 2; ++i) {
    auto* put = req.add_success()->mutable_request_put();
    put->set_key("bad-input/txn-big-" + std::to_string(i));
    put->set_value(std::string(900 * 1024, 'y'));
  }
  EXPECT_STATUS(Txn(req), StatusCode::INVALID_ARGUMENT, kTooLarge);
}

TEST_F(BadInput, MalformedProtobuf) {
  grpc::GenericStub generic(channel_);
  // Field 1 (key, length-delimited) claims 100 bytes but the message ends after 3: not a
  // parseable PutRequest.
  const std::string garbage = std::string("\x0a\x64", 2) + "abc";
  grpc::Slice slice(garbage);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  std::promise<grpc::Status> done;
  generic.UnaryCall(&ctx, "/etcdserverpb.KV/Put", grpc::StubOptions(), &request, &response,
                    [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status st = done.get_future().get();
  EXPECT_FALSE(st.ok()) << "the server accepted an unparseable PutRequest";
  EXPECT_NE(st.error_code(), StatusCode::DEADLINE_EXCEEDED) << st.error_message();
}

TEST_F(BadInput, PutEmptyKey) { EXPECT_STATUS(Put("", "v"), StatusCode::INVALID_ARGUMENT, kEmptyKey); }

TEST_F(BadInput, RangeEmptyKey) {
  etcdserverpb::RangeRequest req;
  etcdserverpb::RangeResponse resp;
  EXPECT_STATUS(Range(req, &resp), StatusCode::INVALID_ARGUMENT, kEmptyKey);
}

TEST_F(BadInput, DeleteEmptyKey) {
  etcdserverpb::DeleteRangeRequest req;
  etcdserverpb::DeleteRangeResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  EXPECT_STATUS(kv_->DeleteRange(&ctx, req, &resp), StatusCode::INVALID_ARGUMENT, kEmptyKey);
}

TEST_F(BadInput, TxnEmptyKeyInOp) {
  etcdserverpb::TxnRequest req;
  req.add_success()->mutable_request_put()->set_value("v");
  EXPECT_STATUS(Txn(req), StatusCode::INVALID_ARGUMENT, kEmptyKey);
}

TEST_F(BadInput, TxnDuplicatePuts) {
  etcdserverpb::TxnRequest req;
  for (int i = 0; i < 2; ++i) {
    auto* put = req.add_success()->mutable_request_put();
    put->set_key("bad-input/dup");
    put->set_value(std::to_string(i));
  }
  EXPECT_STATUS(Txn(req), StatusCode::INVALID_ARGUMENT, kDuplicate);
}

TEST_F(BadInput, TxnPutInsideDeletedRange) {
  etcdserverpb::TxnRequest req;
  auto* del = req.add_failure()->mutable_request_delete_range();
  del->set_key("bad-input/a");
  del->set_range_end("bad-input/z");
  auto* put = req.add_failure()->mutable_request_put();
  put->set_key("bad-input/m");
  put->set_value("v");
  EXPECT_STATUS(Txn(req), StatusCode::INVALID_ARGUMENT, kDuplicate);
}

TEST_F(BadInput, TxnTooManyOps) {
  etcdserverpb::TxnRequest req;
  for (int i = 0; i < 129; ++i) {
    auto* put = req.add_success()->mutable_request_put();
    put->set_key("bad-input/many-" + std::to_string(i));
    put->set_value("v");
  }
  EXPECT_STATUS(Txn(req), StatusCode::INVALID_ARGUMENT, kTooManyOps);
}

TEST_F(BadInput, TxnTooManyCompares) {
  etcdserverpb::TxnRequest req;
  for (int i = 0; i < 129; ++i) {
    auto* cmp = req.add_compare();
    cmp->set_key("bad-input/cmp-" + std::to_string(i));
    cmp->set_target(Compare::VERSION);
    cmp->set_version(0);
  }
  EXPECT_STATUS(Txn(req), StatusCode::INVALID_ARGUMENT, kTooManyOps);
}

TEST_F(BadInput, TxnOf128OpsIsAccepted) {
  // The limit is inclusive: 128 ops pass (and write one revision; the baseline moves).
  etcdserverpb::TxnRequest req;
  for (int i = 0; i < 128; ++i) {
    auto* put = req.add_success()->mutable_request_put();
    put->set_key("bad-input/ok-" + std::to_string(i));
    put->set_value("v");
  }
  etcdserverpb::TxnResponse resp;
  grpc::Status st = Txn(req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(resp.succeeded());
  EXPECT_EQ(resp.header().revision(), before_ + 1);
  before_ = resp.header().revision();
}

TEST_F(BadInput, PutWithUnknownLease) {
  EXPECT_STATUS(Put("bad-input/leased", "v", kUnknownLease), StatusCode::NOT_FOUND, kLeaseNotFound);
}

TEST_F(BadInput, RevokeUnknownLease) {
  etcdserverpb::LeaseRevokeRequest req;
  req.set_id(kUnknownLease);
  etcdserverpb::LeaseRevokeResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  EXPECT_STATUS(lease_->LeaseRevoke(&ctx, req, &resp), StatusCode::NOT_FOUND, kLeaseNotFound);
}

TEST_F(BadInput, KeepAliveUnknownLeaseAnswersTtlZero) {
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  auto stream = lease_->LeaseKeepAlive(&ctx);
  etcdserverpb::LeaseKeepAliveRequest req;
  req.set_id(kUnknownLease);
  ASSERT_TRUE(stream->Write(req));
  etcdserverpb::LeaseKeepAliveResponse resp;
  ASSERT_TRUE(stream->Read(&resp)) << "no keep-alive response";
  EXPECT_EQ(resp.id(), kUnknownLease);
  EXPECT_EQ(resp.ttl(), 0);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(BadInput, TimeToLiveUnknownLeaseAnswersTtlMinusOne) {
  etcdserverpb::LeaseTimeToLiveRequest req;
  req.set_id(kUnknownLease);
  req.set_keys(true);
  etcdserverpb::LeaseTimeToLiveResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  grpc::Status st = lease_->LeaseTimeToLive(&ctx, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
  EXPECT_EQ(resp.id(), kUnknownLease);
  EXPECT_EQ(resp.ttl(), -1);
  EXPECT_EQ(resp.grantedttl(), 0);
  EXPECT_EQ(resp.keys_size(), 0);
}

TEST_F(BadInput, GrantExistingLeaseId) {
  const int64_t id = Grant(60);
  ASSERT_NE(id, 0);
  etcdserverpb::LeaseGrantRequest req;
  req.set_id(id);
  req.set_ttl(60);
  etcdserverpb::LeaseGrantResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  EXPECT_STATUS(lease_->LeaseGrant(&ctx, req, &resp), StatusCode::FAILED_PRECONDITION, kLeaseExists);
  Revoke(id);  // no keys attached: the revision does not move
}

TEST_F(BadInput, GrantTtlTooLarge) {
  etcdserverpb::LeaseGrantRequest req;
  req.set_ttl(9000000001);
  etcdserverpb::LeaseGrantResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  EXPECT_STATUS(lease_->LeaseGrant(&ctx, req, &resp), StatusCode::OUT_OF_RANGE, kTtlTooLarge);
}

TEST_F(BadInput, RangeAtFutureRevision) {
  etcdserverpb::RangeRequest req;
  req.set_key("bad-input/existing");
  req.set_revision(before_ + 1);
  etcdserverpb::RangeResponse resp;
  EXPECT_STATUS(Range(req, &resp), StatusCode::OUT_OF_RANGE, kFutureRev);
}

TEST_F(BadInput, CompactFutureRevision) {
  etcdserverpb::CompactionRequest req;
  req.set_revision(before_ + 100);
  etcdserverpb::CompactionResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  EXPECT_STATUS(kv_->Compact(&ctx, req, &resp), StatusCode::OUT_OF_RANGE, kFutureRev);
}

TEST_F(BadInput, RangeAtCompactedRevision) {
  // Two more revisions, then compact at the first of them: everything below is gone.
  ASSERT_TRUE(Put("bad-input/c", "1").ok());
  ASSERT_TRUE(Put("bad-input/c", "2").ok());
  const int64_t rev = Revision();
  {
    etcdserverpb::CompactionRequest req;
    req.set_revision(rev - 1);
    etcdserverpb::CompactionResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline());
    grpc::Status st = kv_->Compact(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.header().revision(), rev) << "compaction must not create a revision";
  }
  before_ = rev;
  etcdserverpb::RangeRequest req;
  req.set_key("bad-input/c");
  req.set_revision(rev - 2);
  etcdserverpb::RangeResponse resp;
  EXPECT_STATUS(Range(req, &resp), StatusCode::OUT_OF_RANGE, kCompacted);
  // The compaction revision itself stays readable.
  req.set_revision(rev - 1);
  grpc::Status st = Range(req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(resp.kvs_size(), 1);
  EXPECT_EQ(resp.kvs(0).value(), "1");
  // Compacting again at or below it fails the same way.
  etcdserverpb::CompactionRequest again;
  again.set_revision(rev - 1);
  etcdserverpb::CompactionResponse aresp;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  EXPECT_STATUS(kv_->Compact(&ctx, again, &aresp), StatusCode::OUT_OF_RANGE, kCompacted);
}

TEST_F(BadInput, IgnoreValueOnMissingKey) {
  etcdserverpb::PutRequest req;
  req.set_key("bad-input/missing");
  req.set_ignore_value(true);
  EXPECT_STATUS(Put(req), StatusCode::INVALID_ARGUMENT, kKeyNotFound);
}

TEST_F(BadInput, IgnoreValueWithValue) {
  etcdserverpb::PutRequest req;
  req.set_key("bad-input/existing");
  req.set_value("new");
  req.set_ignore_value(true);
  EXPECT_STATUS(Put(req), StatusCode::INVALID_ARGUMENT, kValueProvided);
}

TEST_F(BadInput, IgnoreLeaseWithLease) {
  etcdserverpb::PutRequest req;
  req.set_key("bad-input/existing");
  req.set_value("new");
  req.set_lease(kUnknownLease);
  req.set_ignore_lease(true);
  EXPECT_STATUS(Put(req), StatusCode::INVALID_ARGUMENT, kLeaseProvided);
}

TEST_F(BadInput, IgnoreLeaseOnMissingKey) {
  etcdserverpb::PutRequest req;
  req.set_key("bad-input/missing");
  req.set_value("v");
  req.set_ignore_lease(true);
  EXPECT_STATUS(Put(req), StatusCode::INVALID_ARGUMENT, kKeyNotFound);
}

TEST_F(BadInput, GrantTtlBelowMinimumIsRaised) {
  // etcd raises a TTL below its minimum (1.5 election timeouts, 2 s with defaults).
  etcdserverpb::LeaseGrantRequest req;
  req.set_ttl(1);
  etcdserverpb::LeaseGrantResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  grpc::Status st = lease_->LeaseGrant(&ctx, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.ttl(), 2);
  Revoke(resp.id());
}

TEST_F(BadInput, RangeEndBeforeKeyIsEmpty) {
  etcdserverpb::RangeRequest req;
  req.set_key("bad-input/z");
  req.set_range_end("bad-input/a");
  etcdserverpb::RangeResponse resp;
  grpc::Status st = Range(req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.kvs_size(), 0);
  EXPECT_EQ(resp.count(), 0);
}

TEST_F(BadInput, DeleteRangeEndBeforeKeyDeletesNothing) {
  etcdserverpb::DeleteRangeRequest req;
  req.set_key("bad-input/z");
  req.set_range_end("bad-input/a");
  etcdserverpb::DeleteRangeResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline());
  grpc::Status st = kv_->DeleteRange(&ctx, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.deleted(), 0);
  EXPECT_EQ(resp.header().revision(), before_);
}

}  // namespace
