// Request rules that need no stored state, checked before a request is queued for the writer
// (etcd's v3rpc/key.go checks): empty keys, ignore_value/ignore_lease conflicts, too many txn
// operations, and duplicate keys within one transaction branch. Errors are etcd's, byte-exact.
#pragma once

#include "base/status.h"
#include "datastore/types.h"

namespace kite::datastore {

Status ValidateRange(const RangeRequest& r);
Status ValidatePut(const PutRequest& r);
Status ValidateDelete(const DeleteRangeRequest& r);
Status ValidateTxn(const TxnRequest& r);

}  // namespace kite::datastore
