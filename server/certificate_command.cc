#include "server/certificate_command.h"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/flags.h"
#include "base/fs.h"
#include "server/apiserver/certs.h"

namespace kite::server {
namespace fs = std::filesystem;

int CertificateCommand(int argc, char** argv) {
  const std::string sub = argc > 1 ? argv[1] : "";
  if (sub != "rotate") {
    std::cerr << "usage: kite-server certificate rotate [--data-dir DIR] [--service NAME]...\n"
                 "  rotate: renew the leaf certificates (all, or those of each --service) at the next start;\n"
                 "          run it while the server is stopped\n";
    return sub == "-h" || sub == "--help" ? 0 : 2;
  }
  std::string data_dir = "/var/lib/kite";
  std::vector<std::string> services;
  FlagSet flags("kite-server certificate rotate");
  flags.String("data-dir", &data_dir, "The server's data directory");
  flags.StringList("service", &services,
                   "Services whose certificates to renew: admin, api-server, controller-manager, scheduler, kube-proxy, "
                   "kubelet, etcd (default: all)");
  if (auto s = flags.Parse(argc - 1, argv + 1); !s.ok()) {
    std::cerr << "kite-server certificate rotate: " << s.message() << "\n";
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  if (services.empty()) services.emplace_back("");
  std::vector<std::string> files;
  for (const auto& svc : services) {
    auto f = apiserver::LeafFiles(svc);
    if (!f.ok()) {
      std::cerr << "kite-server certificate rotate: " << f.status().message() << "\n";
      return 2;
    }
    files.insert(files.end(), f->begin(), f->end());
  }
  const fs::path tls = fs::path(data_dir) / "server" / "tls";
  if (!kite::files::IsDirectory(tls)) {
    std::cerr << "kite-server certificate rotate: " << tls.string() << " does not exist (wrong --data-dir?)\n";
    return 1;
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       kite::Clock::Real()->Now().time_since_epoch()).count();
  const fs::path backup = fs::path(data_dir) / "server" / ("tls-" + std::to_string(now));
  std::error_code ec;
  kite::files::CopyTree(tls, backup, ec);
  if (ec) {
    std::cerr << "kite-server certificate rotate: backing up " << tls.string() << ": " << ec.message() << "\n";
    return 1;
  }
  fs::permissions(backup, fs::perms::owner_all, ec);
  std::cout << "certificates backed up to " << backup.string() << "\n";
  for (const auto& f : files) {
    for (const char* ext : {".crt", ".key"}) {
      const fs::path p = tls / (f + ext);
      if (fs::remove(p, ec)) std::cout << "removed " << p.string() << "\n";
    }
  }
  std::cout << "new certificates will be issued when kite-server next starts\n";
  return 0;
}

}  // namespace kite::server
