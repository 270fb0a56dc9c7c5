// The data dir is private to the service user: its database holds Secrets in clear, so no other
// local user may read any of it (0700 directories, 0600 files, as k3s keeps its data dir).
// kite-server also runs with umask 077 (server/main.cc), which covers every file created later
// (the SQLite WAL and shared-memory files, snapshots, certificates); this fixes what an older
// version or another tool left readable.
#pragma once

#include <string>

#include "base/status.h"

namespace kite::datastore {

// Creates `dir` (and missing parents) if needed, then removes the group and other permission
// bits from `dir` and everything below it. Symbolic links are neither followed nor changed.
kite::Status MakePrivateDir(const std::string& dir);

}  // namespace kite::datastore
