// Images without a registry: image archives dropped in <data-dir>/agent/images/ are imported
// into containerd's CRI namespace ("k8s.io"), at start and whenever a file is added or changed,
// as k3s does with its agent/images directory.
//
// Archives: docker-archive (`docker save`, packaging/images/ builds these) and OCI image layout
// tarballs, plain (*.tar) or compressed (*.tar.gz / *.tgz through gzip, *.tar.zst / *.tzst
// through zstd). Other files, directories and names starting with "." are ignored, so a file
// can be copied in under a temporary name and renamed. An OCI archive needs full references in
// its org.opencontainers.image.ref.name annotations ("registry/name:tag"); ctr names a bare tag
// "import-<date>:<tag>", which no pod can ask for.
//
// How: `ctr --address <socket> -n k8s.io images import [--snapshotter S] <file>` (containerd
// 1.6's ctr; it reads no compressed archive itself, so compressed ones go through the
// decompressor into `import -`). Without --all-platforms: only the host's platform is imported
// and unpacked, and an archive of one platform saved from a multi-platform index still imports.
// The snapshotter must be the CRI plugin's so the image is unpacked where CRI looks. containerd's
// CRI plugin sees images created in its namespace (an event) and marks them managed
// (io.cri-containerd.image=managed) and adds their image-id reference itself, so an imported
// image is at once visible to ImageStatus and usable by CreateContainer.
//
// What was imported is remembered by file name + size + mtime (and the image names ctr reported)
// in a small state file, written only when it changes, so a restart does not import again; at
// the first pass after start, a remembered file whose images are missing from containerd (its
// store was reset) is imported again. A failed file is logged in one line (file name and ctr's
// reason) and not retried until it changes (or the agent restarts); other files go on. While
// containerd cannot be reached (`ctr version` fails too) no failure is recorded and the pass is
// retried.
//
// Threading: Start() runs a background thread (inotify on the directory, with a periodic rescan
// as a safety net); all public methods are thread-safe. Stop() (or the destructor) ends the
// thread after the import in progress, if any, has finished.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/cri/runtime.h"
#include "base/status.h"

namespace kite::cri {

// Runs `argv` (argv[0] searched in PATH), feeding it the standard output of `stdin_from` when
// that is not empty (a decompressor). Result: the combined stdout+stderr when every process
// exited 0; else an error whose message is the last line of that output (or how it ended).
using CommandRunner =
    std::function<Result<std::string>(const std::vector<std::string>& argv, const std::vector<std::string>& stdin_from)>;

// The real runner (posix_spawn; waits for the processes to end).
Result<std::string> RunCommand(const std::vector<std::string>& argv, const std::vector<std::string>& stdin_from);

struct ImageImporterOptions {
  std::string images_dir;          // <data-dir>/agent/images (created if missing)
  std::string state_file;          // <data-dir>/agent/images.imported
  std::string containerd_address;  // containerd's socket
  std::string containerd_namespace = "k8s.io";  // the CRI plugin's
  std::string snapshotter;         // the CRI plugin's; "" leaves ctr's default (overlayfs)
  std::string ctr = "ctr";
  std::chrono::milliseconds rescan_interval{30000};
  CommandRunner runner;            // empty: RunCommand (tests give a fake)
};

class ImageImporter {
 public:
  struct Outcome {
    std::string file;                 // name inside images_dir
    Status status;                    // why the import failed
    std::vector<std::string> images;  // the references ctr created
  };

  explicit ImageImporter(ImageImporterOptions options);
  ~ImageImporter();
  ImageImporter(const ImageImporter&) = delete;
  ImageImporter& operator=(const ImageImporter&) = delete;

  void Start();
  void Stop();

  // Waits until the initial pass finished (every archive present at start imported or failed),
  // at most `timeout`. True when it has. The kubelet waits here before it reports an image
  // missing under imagePullPolicy Never.
  bool WaitInitialImport(std::chrono::milliseconds timeout);
  bool initial_import_done() const;

  // One pass over the directory (what the thread runs): imports new and changed archives.
  // Result: the archives it tried, in name order. Unavailable when containerd cannot be
  // reached (no failure was recorded then; what was imported before it went away was).
  Result<std::vector<Outcome>> ImportOnce();

 private:
  struct Seen {
    int64_t size = 0, mtime_ns = 0;
    std::vector<std::string> images;
    bool operator==(const Seen& o) const { return size == o.size && mtime_ns == o.mtime_ns; }
  };
  void Run();
  void LoadState();
  Status SaveState();
  Result<std::vector<std::string>> ImportFile(const std::string& name);
  void MarkInitialDone();

  const ImageImporterOptions opts_;
  std::mutex pass_mu_;  // one pass at a time; guards the maps below
  std::map<std::string, Seen> imported_;  // guarded by pass_mu_: the state file's content
  std::map<std::string, Seen> failed_;    // guarded by pass_mu_: not retried until changed
  bool loaded_ = false;                   // guarded by pass_mu_: the state file was read
  bool verified_ = false;                 // guarded by pass_mu_: images checked against containerd

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool initial_done_ = false;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  int wake_fd_ = -1;           // eventfd: Stop() wakes the thread
  std::thread thread_;
};

// The node's ImageService as the kubelet should see it while archives are being imported: an
// image reported absent is only absent once the initial import finished (or `max_wait` passed),
// so a pod with imagePullPolicy Never started at boot does not fail with ErrImageNeverPull
// because its archive was still on its way into containerd. Everything else is passed through.
// Thread-safe as the wrapped service; `images` and `importer` must outlive it.
class ImportAwareImageService final : public ImageService {
 public:
  ImportAwareImageService(ImageService* images, ImageImporter* importer, std::chrono::milliseconds max_wait)
      : images_(images), importer_(importer), max_wait_(max_wait) {}

  Result<std::string> PullImage(const ImageSpec& image, const std::optional<AuthConfig>& auth,
                                const PodSandboxConfig& sandbox_config) override {
    return images_->PullImage(image, auth, sandbox_config);
  }
  Result<std::optional<Image>> ImageStatus(const ImageSpec& image) override;
  Result<std::vector<Image>> ListImages() override { return images_->ListImages(); }
  kite::Status RemoveImage(const ImageSpec& image) override { return images_->RemoveImage(image); }

 private:
  ImageService* images_;
  ImageImporter* importer_;
  std::chrono::milliseconds max_wait_;
};

}  // namespace kite::cri
