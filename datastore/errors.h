// etcd's error statuses, byte-exact (api/v3rpc/rpctypes/error.go): clients such as etcdctl and
// the kube-apiserver storage layer match on the message text, so never reword these.
#pragma once

#include "base/status.h"

namespace kite::datastore::errors {

inline Status Compacted() { return Status(Code::kOutOfRange, "etcdserver: mvcc: required revision has been compacted"); }
inline Status FutureRev() { return Status(Code::kOutOfRange, "etcdserver: mvcc: required revision is a future revision"); }
inline Status EmptyKey() { return Status(Code::kInvalidArgument, "etcdserver: key is not provided"); }
inline Status KeyNotFound() { return Status(Code::kInvalidArgument, "etcdserver: key not found"); }
inline Status ValueProvided() { return Status(Code::kInvalidArgument, "etcdserver: value is provided"); }
inline Status LeaseProvided() { return Status(Code::kInvalidArgument, "etcdserver: lease is provided"); }
inline Status TooManyOps() { return Status(Code::kInvalidArgument, "etcdserver: too many operations in txn request"); }
inline Status DuplicateKey() { return Status(Code::kInvalidArgument, "etcdserver: duplicate key given in txn request"); }
inline Status RequestTooLarge() { return Status(Code::kInvalidArgument, "etcdserver: request is too large"); }
inline Status LeaseNotFound() { return Status(Code::kNotFound, "etcdserver: requested lease not found"); }
inline Status LeaseExist() { return Status(Code::kFailedPrecondition, "etcdserver: lease already exists"); }
inline Status LeaseTtlTooLarge() { return Status(Code::kOutOfRange, "etcdserver: too large lease TTL"); }
inline Status NoSpace() { return Status(Code::kResourceExhausted, "etcdserver: mvcc: database space exceeded"); }
inline Status Stopped() { return Status(Code::kUnavailable, "etcdserver: server stopped"); }

}  // namespace kite::datastore::errors
