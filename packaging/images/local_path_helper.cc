// kite's local-path helper: the one program of the image the local-path provisioner runs as a
// helper pod on a node to remove a deleted volume's directory (k3s's provisioner runs a busybox
// `rm -rf` the same way). The provisioner mounts its storage directory at /data and asks for
//   kite-local-path-helper delete /data/<volume directory>
// Only a direct child of /data is accepted, so a volume's path can never name anything else on
// the node; symbolic links inside are removed, not followed. A directory already gone is success
// (the pod may run twice). Built static, so the image is this one file.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

namespace {

constexpr const char kRoot[] = "/data/";

bool DirectChildOfRoot(const std::string& path) {
  if (path.rfind(kRoot, 0) != 0) return false;
  const std::string name = path.substr(sizeof kRoot - 1);
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::strcmp(argv[1], "delete") != 0) {
    std::fprintf(stderr, "usage: %s delete /data/<directory>\n", argv[0]);
    return 2;
  }
  const std::string path = argv[2];
  if (!DirectChildOfRoot(path)) {
    std::fprintf(stderr, "refusing to delete %s: not a directory directly under %s\n", path.c_str(), kRoot);
    return 2;
  }
  std::error_code ec;
  const auto removed = std::filesystem::remove_all(path, ec);
  if (ec) {
    std::fprintf(stderr, "deleting %s: %s\n", path.c_str(), ec.message().c_str());
    return 1;
  }
  std::printf("deleted %s (%ju entries)\n", path.c_str(), static_cast<uintmax_t>(removed));
  return 0;
}
