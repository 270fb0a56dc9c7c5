#include "datastore/etcdserver/maintenance_service.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <openssl/evp.h>

#include "base/fs.h"
#include "base/log.h"
#include "datastore/etcdserver/unary.h"

namespace kite::datastore::etcdserver {
namespace {

constexpr char kMaintenance[] = "etcdserverpb.Maintenance";
constexpr char kCluster[] = "etcdserverpb.Cluster";

// Streams a snapshot file: data chunks, then the SHA-256 trailer, then OK. The file is copied
// and opened on a helper thread; reading the next 32 KiB chunk is cheap and happens in
// OnWriteDone. Deletes itself in OnDone.
class SnapshotReactor final : public grpc::ServerWriteReactor<pb::SnapshotResponse> {
 public:
  explicit SnapshotReactor(const Dispatcher* d) : d_(d), sha_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(sha_, EVP_sha256(), nullptr);
    std::thread([this] { Prepare(); }).detach();
  }
  ~SnapshotReactor() override {
    if (fd_ >= 0) ::close(fd_);
    EVP_MD_CTX_free(sha_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return Done(grpc::Status(grpc::StatusCode::CANCELLED, "snapshot stream broken"));
    SendNext();
  }

  void OnDone() override {
    CountHandled("server_stream", kMaintenance, "Snapshot", status_.error_code());
    delete this;
  }

 private:
  void Prepare() {
    std::error_code ec;
    auto dir = kite::files::TempDirectory(ec);
    std::string tmpl = (ec ? std::filesystem::path("/tmp") : dir) / "kite-etcd-snapshot-XXXXXX";
    std::vector<char> path(tmpl.begin(), tmpl.end());
    path.push_back('\0');
    int fd = ::mkstemp(path.data());
    if (fd < 0) return Done(grpc::Status(grpc::StatusCode::INTERNAL, "snapshot: cannot create a temporary file"));
    ::close(fd);
    kite::Status s = d_->store()->Snapshot(path.data());
    if (s.ok()) {
      fd_ = ::open(path.data(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) s = kite::Status(Code::kInternal, "snapshot: cannot open the copy");
    }
    // Unlinked at once: the open descriptor keeps the data until the stream ends, and nothing is
    // left behind if the process dies mid-stream.
    ::unlink(path.data());
    if (!s.ok()) return Done(ToGrpcStatus(s));
    off_t size = ::lseek(fd_, 0, SEEK_END);
    ::lseek(fd_, 0, SEEK_SET);
    total_ = size > 0 ? static_cast<uint64_t>(size) : 0;
    KITE_LOG(0) << "etcd: sending database snapshot to client (" << total_ << " bytes)";
    SendNext();
  }

  void SendNext() {
    resp_.Clear();
    d_->FillHeader(resp_.mutable_header(), d_->CurrentRevision());
    if (sent_ < total_) {
      std::string* blob = resp_.mutable_blob();
      blob->resize(std::min<uint64_t>(kSnapshotChunkBytes, total_ - sent_));
      size_t got = 0;
      while (got < blob->size()) {
        ssize_t n = ::read(fd_, blob->data() + got, blob->size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return Done(grpc::Status(grpc::StatusCode::INTERNAL, "snapshot: short read"));
        got += static_cast<size_t>(n);
      }
      sent_ += got;
      EVP_DigestUpdate(sha_, blob->data(), blob->size());
      resp_.set_remaining_bytes(total_ - sent_);
      StartWrite(&resp_);
      return;
    }
    if (!trailer_sent_) {
      // etcd's integrity trailer (v3rpc/maintenance.go): remaining_bytes 0, blob = SHA-256 digest.
      trailer_sent_ = true;
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      EVP_DigestFinal_ex(sha_, digest, &len);
      resp_.set_remaining_bytes(0);
      resp_.set_blob(reinterpret_cast<const char*>(digest), len);
      StartWrite(&resp_);
      return;
    }
    Done(grpc::Status::OK);
  }

  void Done(const grpc::Status& st) {
    status_ = st;
    Finish(st);
  }

  const Dispatcher* d_;
  EVP_MD_CTX* sha_;
  int fd_ = -1;
  uint64_t total_ = 0;
  uint64_t sent_ = 0;
  bool trailer_sent_ = false;
  pb::SnapshotResponse resp_;  // owned by the write in flight
  grpc::Status status_;
};

}  // namespace

grpc::ServerUnaryReactor* MaintenanceService::Alarm(grpc::CallbackServerContext* ctx, const pb::AlarmRequest* req,
                                                    pb::AlarmResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  pb::AlarmResponse out;
  d_->FillHeader(out.mutable_header(), d_->CurrentRevision());
  // The store's one alarm is NOSPACE. GET lists the active alarms of the asked type (NONE: all);
  // ACTIVATE and DEACTIVATE of NOSPACE answer with the alarm they changed, as etcd does.
  Store* store = d_->store();
  const bool nospace = req->alarm() == pb::NOSPACE || (req->action() == pb::AlarmRequest::GET && req->alarm() == pb::NONE);
  auto add = [&] {
    auto* a = out.add_alarms();
    a->set_memberid(d_->member_id());
    a->set_alarm(pb::NOSPACE);
  };
  if (nospace) {
    switch (req->action()) {
      case pb::AlarmRequest::ACTIVATE:
        store->SetNoSpaceAlarm(true);
        add();
        break;
      case pb::AlarmRequest::DEACTIVATE:
        if (store->NoSpaceAlarm()) add();
        store->SetNoSpaceAlarm(false);
        break;
      default:
        if (store->NoSpaceAlarm()) add();
        break;
    }
  }
  FinishUnary(reactor, kMaintenance, "Alarm", Result<pb::AlarmResponse>(std::move(out)), resp);
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Status(grpc::CallbackServerContext* ctx, const pb::StatusRequest*,
                                                     pb::StatusResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  StoreStatus s = d_->store()->Status();
  pb::StatusResponse out;
  d_->FillHeader(out.mutable_header(), s.revision);
  out.set_version(kEmulatedEtcdVersion);
  out.set_dbsize(s.db_size);
  out.set_dbsizeinuse(s.db_size_in_use);
  out.set_leader(d_->member_id());
  out.set_raftindex(static_cast<uint64_t>(s.revision));
  out.set_raftappliedindex(static_cast<uint64_t>(s.revision));
  out.set_raftterm(kRaftTerm);
  // etcd lists active alarms here too (`etcdctl endpoint status` shows them as ERRORS).
  if (s.nospace_alarm) out.add_errors("memberID:" + std::to_string(d_->member_id()) + " alarm:NOSPACE ");
  FinishUnary(reactor, kMaintenance, "Status", Result<pb::StatusResponse>(std::move(out)), resp);
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Defragment(grpc::CallbackServerContext* ctx,
                                                         const pb::DefragmentRequest*, pb::DefragmentResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  std::thread([d = d_, reactor, resp] {
    KITE_LOG(0) << "etcd: defragmenting the database";
    kite::Status s = d->store()->Defragment();
    if (!s.ok()) return FinishUnary(reactor, kMaintenance, "Defragment", Result<pb::DefragmentResponse>(s), resp);
    pb::DefragmentResponse out;
    d->FillHeader(out.mutable_header(), d->CurrentRevision());
    FinishUnary(reactor, kMaintenance, "Defragment", Result<pb::DefragmentResponse>(std::move(out)), resp);
  }).detach();
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Hash(grpc::CallbackServerContext* ctx, const pb::HashRequest*,
                                                   pb::HashResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  int64_t rev = 0;
  auto h = d_->store()->HashKV(0, &rev);
  if (!h.ok()) {
    FinishUnary(reactor, kMaintenance, "Hash", Result<pb::HashResponse>(h.status()), resp);
    return reactor;
  }
  pb::HashResponse out;
  d_->FillHeader(out.mutable_header(), rev > 0 ? rev : d_->CurrentRevision());
  out.set_hash(*h);
  FinishUnary(reactor, kMaintenance, "Hash", Result<pb::HashResponse>(std::move(out)), resp);
  return reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::HashKV(grpc::CallbackServerContext* ctx, const pb::HashKVRequest* req,
                                                     pb::HashKVResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  int64_t hash_rev = 0;
  auto h = d_->store()->HashKV(req->revision(), &hash_rev);
  if (!h.ok()) {
    FinishUnary(reactor, kMaintenance, "HashKV", Result<pb::HashKVResponse>(h.status()), resp);
    return reactor;
  }
  StoreStatus s = d_->store()->Status();
  pb::HashKVResponse out;
  d_->FillHeader(out.mutable_header(), s.revision);
  out.set_hash(*h);
  // etcd reports -1 while nothing has been compacted.
  out.set_compact_revision(s.compact_revision > 0 ? s.compact_revision : -1);
  out.set_hash_revision(hash_rev);
  FinishUnary(reactor, kMaintenance, "HashKV", Result<pb::HashKVResponse>(std::move(out)), resp);
  return reactor;
}

grpc::ServerWriteReactor<pb::SnapshotResponse>* MaintenanceService::Snapshot(grpc::CallbackServerContext*,
                                                                             const pb::SnapshotRequest*) {
  return new SnapshotReactor(d_);
}

grpc::ServerUnaryReactor* ClusterService::MemberList(grpc::CallbackServerContext* ctx, const pb::MemberListRequest*,
                                                     pb::MemberListResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  pb::MemberListResponse out;
  // Cluster responses come from the membership store in etcd, not the key space: no revision.
  d_->FillHeader(out.mutable_header(), 0);
  pb::Member* m = out.add_members();
  m->set_id(d_->member_id());
  m->set_name(name_);
  m->add_peerurls("http://localhost:2380");
  {
    std::lock_guard lock(mu_);
    m->add_clienturls(client_url_);
  }
  FinishUnary(reactor, kCluster, "MemberList", Result<pb::MemberListResponse>(std::move(out)), resp);
  return reactor;
}

}  // namespace kite::datastore::etcdserver
