// Files that readers watch (a config containerd reloads, a CNI conflist) are replaced whole:
// written aside and renamed over, so a reader sees the old or the new content, never half.
#pragma once

#include <string>

#include "base/status.h"

namespace kite {

// Writes `content` to `path` (through `path`.tmp and a rename, with permission bits `mode`)
// unless the file holds exactly that already: an unchanged file is not rewritten (no needless
// flash wear, no reload by its watcher). Result: whether it wrote. The directory must exist.
Result<bool> WriteFileIfChanged(const std::string& path, const std::string& content, unsigned mode = 0644);

}  // namespace kite
