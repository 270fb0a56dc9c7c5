// Runs a shell command and returns what it printed on stdout: for tests that drive real clients
// (kubectl, curl, openssl).
#pragma once

#include <array>
#include <cstdio>
#include <string>

namespace kite::testing {

inline std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  pclose(p);
  return out;
}

}  // namespace kite::testing
