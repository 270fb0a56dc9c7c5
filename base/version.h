// What `--version` prints: the release version, the git commit it was built from and the
// architecture the binary runs on, e.g. "kite-server v0.1.0 (commit 3f81fa3, linux/arm64)".
// The commit comes from a generated file (cmake/version.cmake, refreshed on every build) that
// only kite_version compiles, so a new commit relinks the programs and recompiles nothing else.
#pragma once

#include <string>

namespace kite {

// "v<version>" as in the top CMakeLists.txt's project(VERSION).
std::string Version();
// Abbreviated git commit ("unknown" outside a git checkout), "-dirty" when the tree had changes.
std::string GitCommit();
// Kubernetes' GOARCH names: amd64, arm64, arm (armhf), or the compiler's name for others.
std::string Arch();
// "<program> <Version()> (commit <GitCommit()>, linux/<Arch()>)".
std::string VersionLine(const std::string& program);
// True when argv holds --version or -version: the caller prints VersionLine and exits 0.
bool VersionRequested(int argc, char** argv);

}  // namespace kite
