#include "base/version.h"

#include <cstring>

#include "base/version_info.h"  // generated: KITE_VERSION_STRING, KITE_GIT_COMMIT

namespace kite {

std::string Version() { return "v" KITE_VERSION_STRING; }

std::string GitCommit() { return KITE_GIT_COMMIT; }

std::string Arch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#elif defined(__i386__)
  return "386";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "unknown";
#endif
}

std::string VersionLine(const std::string& program) {
  return program + " " + Version() + " (commit " + GitCommit() + ", linux/" + Arch() + ")";
}

bool VersionRequested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--version") == 0 || std::strcmp(argv[i], "-version") == 0) return true;
  }
  return false;
}

}  // namespace kite
