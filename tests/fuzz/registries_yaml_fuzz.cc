// registries.yaml (agent/cri/registries.h): any input either parses or fails with
// InvalidArgument, never crashes; what parses renders TOML whose every line is a table header
// or an indented `key = value`, so nothing in the file can inject TOML into containerd's
// config.toml (a newline or quote in a host, endpoint or password stays inside its string).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/cri/registries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto config = kite::cri::ParseRegistries(input);
  if (!config.ok()) {
    if (config.status().code() != kite::Code::kInvalidArgument) std::abort();
    return 0;
  }
  std::string toml = kite::cri::RenderContainerdRegistryToml(*config);
  size_t start = 0;
  while (start < toml.size()) {
    size_t nl = toml.find('\n', start);
    if (nl == std::string::npos) std::abort();  // every line ends with a newline
    std::string_view line(toml.data() + start, nl - start);
    if (!line.starts_with("[plugins.\"io.containerd.grpc.v1.cri\".registry.") && !line.starts_with("  ")) {
      std::abort();
    }
    for (char c : line) {
      if (static_cast<unsigned char>(c) < 0x20) std::abort();
    }
    start = nl + 1;
  }
  return 0;
}
