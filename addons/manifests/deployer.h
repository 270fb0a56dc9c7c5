// Auto-deploying manifests, as k3s's deploy controller: every *.yaml, *.yml or *.json file in a
// folder (kite-server's <data-dir>/server/manifests/) is applied with server-side apply (field
// manager "kite-deploy", forced) when it is new or its content changed — at start and while the
// server runs, checked every `interval`. A file's applied checksum is kept in `state_file`, so a
// restart with the same file re-applies nothing (a user's edit of an applied object survives, as
// in k3s); an object of an applied file that is deleted is created again at the next check. A
// file FOO.skip beside FOO (e.g. kite-dns.yaml.skip) disables FOO: it is neither applied nor,
// for a packaged add-on, rewritten. Removing a file leaves its objects in the cluster.
//
// Built-in kinds only (api::BuiltinResources()); an object of another kind is reported and the
// file retried at the next check. A namespaced object without a namespace goes to "default".
//
// Thread-safety: Start, Stop and the destructor from one thread; SyncOnce only before Start's
// thread runs or from tests that do not Start.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "addons/manifests/manifests.h"
#include "base/status.h"
#include "client/transport.h"

namespace kite::addons {

// Writes each enabled packaged add-on to <dir>/<name>.yaml (unless <name>.yaml.skip exists) and
// removes the file of each disabled one. Creates `dir`.
Status WritePackagedManifests(const std::string& dir, const AddonOptions& o);

struct DeployerOptions {
  std::string dir;         // the folder watched
  std::string state_file;  // "<checksum> <file name>" lines: what was applied
  std::chrono::milliseconds interval{5000};
};

class ManifestDeployer {
 public:
  // Runs one SyncOnce (its error is logged, not returned: the cluster runs on) and starts the
  // thread that repeats it every interval.
  static std::unique_ptr<ManifestDeployer> Start(std::shared_ptr<client::Transport> transport, DeployerOptions o);
  ManifestDeployer(std::shared_ptr<client::Transport> transport, DeployerOptions o);
  ~ManifestDeployer();
  void Stop();

  // Applies new and changed files and re-creates missing objects of unchanged ones. Returns the
  // first error after trying every file.
  Status SyncOnce();

 private:
  struct File {
    std::string checksum;                      // of the content last parsed
    std::vector<boost::json::object> objects;  // that content's objects
    bool applied = false;                      // every object applied at this checksum
  };
  Status Apply(const boost::json::object& obj, bool only_if_missing);
  void LoadState();
  void SaveState();

  std::shared_ptr<client::Transport> transport_;
  DeployerOptions o_;
  std::map<std::string, File> files_;               // by file name
  std::map<std::string, std::string> applied_sums_;  // state_file: file name → checksum applied
  std::jthread thread_;
};

}  // namespace kite::addons
