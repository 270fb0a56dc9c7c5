// The image side of the agent, driven from a test script against a real containerd (used by
// registry_mirror.sh):
//   image_tool render-registries <registries.yaml>
//       prints RenderContainerdRegistryToml's tables; warnings on stderr; exit 1 on a bad file
//   image_tool import <images-dir> <state-file> <containerd-socket> [snapshotter]
//       one ImageImporter pass; prints "<file> ok <images>" or "<file> failed <reason>" per archive
//   image_tool watch <images-dir> <state-file> <containerd-socket> <seconds>
//       runs the importer's thread that long (initial import, then the directory watch)
//   image_tool pull-auth <secret.json> <image>
//       for a pod whose imagePullSecrets names that Secret (JSON, as the API holds it): prints
//       the normalised reference, then "<username> <password>" per credential to try
#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "agent/cri/image_import.h"
#include "agent/cri/registries.h"
#include "agent/kubelet/pull_secrets.h"

namespace {

int Usage() {
  std::cerr << "usage: image_tool render-registries FILE | import DIR STATE SOCKET [SNAPSHOTTER] |"
               " watch DIR STATE SOCKET SECONDS | pull-auth SECRET_JSON IMAGE\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string cmd = argv[1];
  if (cmd == "render-registries" && argc == 3) {
    auto config = kite::cri::LoadRegistries(argv[2]);
    if (!config.ok()) {
      std::cerr << config.status().message() << "\n";
      return 1;
    }
    for (const auto& w : config->warnings) std::cerr << w << "\n";
    std::cout << kite::cri::RenderContainerdRegistryToml(*config);
    return 0;
  }
  if ((cmd == "import" && (argc == 5 || argc == 6)) || (cmd == "watch" && argc == 6)) {
    kite::cri::ImageImporterOptions o;
    o.images_dir = argv[2];
    o.state_file = argv[3];
    o.containerd_address = argv[4];
    if (cmd == "import" && argc == 6) o.snapshotter = argv[5];
    kite::cri::ImageImporter importer(o);
    if (cmd == "watch") {
      importer.Start();
      std::this_thread::sleep_for(std::chrono::seconds(std::stoi(argv[5])));
      importer.Stop();
      return 0;
    }
    auto outcomes = importer.ImportOnce();
    if (!outcomes.ok()) {
      std::cerr << outcomes.status().message() << "\n";
      return 1;
    }
    for (const auto& out : *outcomes) {
      std::cout << out.file << (out.status.ok() ? " ok" : " failed " + out.status.message());
      for (const auto& image : out.images) std::cout << " " << image;
      std::cout << "\n";
    }
    return 0;
  }
  if (cmd == "pull-auth" && argc == 4) {
    std::ifstream in(argv[2]);
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    boost::json::value secret = boost::json::parse(text.str(), ec);
    if (ec || !secret.is_object()) {
      std::cerr << argv[2] << ": not a JSON object\n";
      return 1;
    }
    auto ref = kite::kubelet::ParseImageReference(argv[3]);
    if (!ref.ok()) {
      std::cerr << ref.status().message() << "\n";
      return 1;
    }
    boost::json::object pod = {{"metadata", {{"namespace", "default"}, {"name", "p"}}},
                               {"spec", {{"imagePullSecrets", boost::json::array{{{"name", "s"}}}}}}};
    kite::kubelet::SecretLookup lookup = [&](const std::string&, const std::string&) -> kite::Result<boost::json::object> {
      return secret.get_object();
    };
    auto creds = kite::kubelet::PullCredentialsFor(pod, *ref, lookup);
    if (!creds.ok()) {
      std::cerr << creds.status().message() << "\n";
      return 1;
    }
    std::cout << ref->String() << "\n";
    for (const auto& a : creds->auths) std::cout << a.username << " " << a.password << "\n";
    return 0;
  }
  return Usage();
}
