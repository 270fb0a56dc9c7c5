// The image archive importer's bookkeeping over a fake `ctr`: which files it imports, how, what
// it remembers across restarts, and that one bad archive does not stop the others. With the real
// ctr and containerd: tests/integration/registry_mirror.sh.
#include "agent/cri/image_import.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

namespace kite::cri {
namespace {

namespace fs = std::filesystem;

struct FakeCtr {
  std::mutex mu;
  std::vector<std::vector<std::string>> calls, feeds;  // guarded by mu
  std::string images_ls;                                 // what `images ls -q` prints
  bool down = false;                                     // containerd unreachable
  std::string dies_at;                                   // containerd goes away importing this

  CommandRunner Runner() {
    return [this](const std::vector<std::string>& argv, const std::vector<std::string>& feed) -> Result<std::string> {
      std::lock_guard<std::mutex> lock(mu);
      if (down) return Status(Code::kUnknown, "ctr: failed to dial \"/x.sock\": connection refused");
      if (argv.size() == 4 && argv[3] == "version") return std::string("Server: 1.6.20\n");
      calls.push_back(argv);
      feeds.push_back(feed);
      if (argv.size() > 6 && argv[5] == "images" && argv[6] == "ls") return images_ls;
      std::string file = feed.empty() ? argv.back() : feed.back();
      std::string base = fs::path(file).filename().string();
      if (base == dies_at) {
        down = true;
        return Status(Code::kUnknown, "ctr: rpc error: code = Unavailable desc = transport is closing");
      }
      if (base.starts_with("bad")) return Status(Code::kUnknown, "ctr: archive/tar: invalid tar header");
      if (base.starts_with("noname")) return std::string("");
      return "unpacking kite.local/" + base.substr(0, base.find('.')) + ":1 (sha256:0)...done\n";
    };
  }
  std::vector<std::string> Imported() {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> files;
    for (size_t i = 0; i < calls.size(); ++i) {
      if (calls[i].size() < 7 || calls[i][6] != "import") continue;
      files.push_back(fs::path(feeds[i].empty() ? calls[i].back() : feeds[i].back()).filename().string());
    }
    calls.clear();
    feeds.clear();
    return files;
  }
};

class ImageImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kite-image-import-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ + "/images");
  }
  void TearDown() override { fs::remove_all(dir_); }

  ImageImporterOptions Options() {
    ImageImporterOptions o;
    o.images_dir = dir_ + "/images";
    o.state_file = dir_ + "/images.imported";
    o.containerd_address = dir_ + "/containerd.sock";
    o.snapshotter = "overlayfs";
    o.runner = ctr_.Runner();
    return o;
  }
  void Write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ + "/images/" + name) << content;
  }

  std::string dir_;
  FakeCtr ctr_;
};

TEST_F(ImageImportTest, ImportsEachArchiveOnceAndSkipsOtherFiles) {
  Write("a.tar", "a");
  Write("b.tar.gz", "b");
  Write("c.tar.zst", "c");
  Write(".partial.tar", "x");
  Write("notes.txt", "x");
  fs::create_directories(dir_ + "/images/dir.tar");
  ImageImporter imp(Options());
  auto r = imp.ImportOnce();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].file, "a.tar");
  EXPECT_EQ((*r)[0].images, std::vector<std::string>{"kite.local/a:1"});
  {
    std::lock_guard<std::mutex> lock(ctr_.mu);
    // First the check of what containerd holds, then one ctr per archive.
    ASSERT_EQ(ctr_.calls.size(), 4u);
    EXPECT_EQ(ctr_.calls[1], (std::vector<std::string>{"ctr", "--address", dir_ + "/containerd.sock", "-n", "k8s.io",
                                                       "images", "import", "--snapshotter", "overlayfs",
                                                       dir_ + "/images/a.tar"}));
    EXPECT_TRUE(ctr_.feeds[1].empty());
    EXPECT_EQ(ctr_.calls[2].back(), "-");
    EXPECT_EQ(ctr_.feeds[2], (std::vector<std::string>{"gzip", "-dc", dir_ + "/images/b.tar.gz"}));
    EXPECT_EQ(ctr_.feeds[3], (std::vector<std::string>{"zstd", "-dcq", dir_ + "/images/c.tar.zst"}));
  }
  ctr_.Imported();
  auto again = imp.ImportOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  EXPECT_TRUE(ctr_.Imported().empty());
}

TEST_F(ImageImportTest, AFailureIsReportedAndDoesNotStopTheOthers) {
  Write("a.tar", "a");
  Write("bad.tar", "x");
  Write("noname.tar", "x");
  Write("z.tar", "z");
  ImageImporter imp(Options());
  auto r = imp.ImportOnce();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 4u);
  EXPECT_TRUE((*r)[0].status.ok());
  EXPECT_EQ((*r)[1].file, "bad.tar");
  EXPECT_EQ((*r)[1].status.message(), "ctr: archive/tar: invalid tar header");
  EXPECT_EQ((*r)[2].status.message(), "the archive holds no named image");
  EXPECT_TRUE((*r)[3].status.ok());
  ctr_.Imported();
  // Not retried while unchanged; retried once it changes.
  ASSERT_TRUE(imp.ImportOnce().ok());
  EXPECT_TRUE(ctr_.Imported().empty());
  Write("bad.tar", "longer now");
  ASSERT_TRUE(imp.ImportOnce().ok());
  EXPECT_EQ(ctr_.Imported(), std::vector<std::string>{"bad.tar"});
}

TEST_F(ImageImportTest, ARestartImportsOnlyWhatChangedOrWentMissing) {
  Write("a.tar", "a");
  Write("b.tar", "b");
  Write("c.tar", "c");
  {
    ImageImporter imp(Options());
    ASSERT_TRUE(imp.ImportOnce().ok());
  }
  ctr_.Imported();
  std::string state;
  std::getline(std::ifstream(dir_ + "/images.imported"), state, '\0');
  EXPECT_NE(state.find(" kite.local/a:1 a.tar\n"), std::string::npos) << state;

  Write("b.tar", "b changed");
  ctr_.images_ls = "kite.local/b:1\nkite.local/c:1\n";  // a's image is gone from containerd
  ImageImporter imp(Options());
  ASSERT_TRUE(imp.ImportOnce().ok());
  EXPECT_EQ(ctr_.Imported(), (std::vector<std::string>{"a.tar", "b.tar"}));

  // A removed archive is forgotten (its image stays in containerd).
  fs::remove(dir_ + "/images/c.tar");
  ASSERT_TRUE(imp.ImportOnce().ok());
  std::getline(std::ifstream(dir_ + "/images.imported"), state, '\0');
  EXPECT_EQ(state.find("c.tar"), std::string::npos) << state;
}

TEST_F(ImageImportTest, NothingIsRecordedWhileContainerdIsDown) {
  Write("a.tar", "a");
  ctr_.down = true;
  ImageImporter imp(Options());
  auto r = imp.ImportOnce();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("connection refused"), std::string::npos);
  ctr_.down = false;
  ASSERT_TRUE(imp.ImportOnce().ok());
  EXPECT_EQ(ctr_.Imported(), std::vector<std::string>{"a.tar"});
}

TEST_F(ImageImportTest, ContainerdGoingAwayMidPassIsNotHeldAgainstTheArchive) {
  Write("a.tar", "a");
  Write("b.tar", "b");
  Write("c.tar", "c");
  ctr_.dies_at = "b.tar";
  ImageImporter imp(Options());
  auto r = imp.ImportOnce();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(ctr_.Imported(), (std::vector<std::string>{"a.tar", "b.tar"}));
  {
    std::lock_guard<std::mutex> lock(ctr_.mu);
    ctr_.down = false;
    ctr_.dies_at.clear();
  }
  ASSERT_TRUE(imp.ImportOnce().ok());
  EXPECT_EQ(ctr_.Imported(), (std::vector<std::string>{"b.tar", "c.tar"}));
}

TEST_F(ImageImportTest, TheInitialImportWaitsForContainerd) {
  Write("a.tar", "a");
  ctr_.down = true;
  ImageImporter imp(Options());
  imp.Start();
  // Not done while containerd cannot be reached (nothing can make it done meanwhile).
  EXPECT_FALSE(imp.WaitInitialImport(std::chrono::milliseconds(300)));
  {
    std::lock_guard<std::mutex> lock(ctr_.mu);
    ctr_.down = false;
  }
  ASSERT_TRUE(imp.WaitInitialImport(std::chrono::seconds(30)));
  EXPECT_EQ(ctr_.Imported(), std::vector<std::string>{"a.tar"});
}

TEST_F(ImageImportTest, TheThreadImportsAtStartAndWhenAFileArrives) {
  Write("a.tar", "a");
  auto opts = Options();
  ImageImporter imp(opts);
  EXPECT_FALSE(imp.initial_import_done());
  imp.Start();
  ASSERT_TRUE(imp.WaitInitialImport(std::chrono::seconds(30)));
  EXPECT_EQ(ctr_.Imported(), std::vector<std::string>{"a.tar"});

  // Written under a hidden name, then renamed: the rename is the event.
  Write(".b.tar", "b");
  fs::rename(dir_ + "/images/.b.tar", dir_ + "/images/b.tar");
  std::vector<std::string> seen;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       seen.empty() && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    seen = ctr_.Imported();
  }
  EXPECT_EQ(seen, std::vector<std::string>{"b.tar"});
  imp.Stop();
}

TEST_F(ImageImportTest, AnEmptyDirectoryFinishesTheInitialImportWithoutContainerd) {
  ctr_.down = true;
  ImageImporter imp(Options());
  imp.Start();
  EXPECT_TRUE(imp.WaitInitialImport(std::chrono::seconds(30)));
}

// An ImageService whose one image appears when the fake ctr imported it.
class FakeImages final : public ImageService {
 public:
  explicit FakeImages(FakeCtr* ctr) : ctr_(ctr) {}
  Result<std::string> PullImage(const ImageSpec&, const std::optional<AuthConfig>&, const PodSandboxConfig&) override {
    return Status(Code::kUnimplemented, "no pulls here");
  }
  Result<std::optional<Image>> ImageStatus(const ImageSpec& image) override {
    std::lock_guard<std::mutex> lock(ctr_->mu);
    for (const auto& call : ctr_->calls) {
      if (call.size() > 6 && call[6] == "import" && image.image == "kite.local/a:1") return Image{"sha256:a", {}, {}, 1, {}, {}};
    }
    return std::optional<Image>();
  }
  Result<std::vector<Image>> ListImages() override { return std::vector<Image>(); }
  Status RemoveImage(const ImageSpec&) override { return Status::Ok(); }

 private:
  FakeCtr* ctr_;
};

TEST_F(ImageImportTest, AnImageIsAbsentOnlyOnceTheInitialImportFinished) {
  Write("a.tar", "a");
  ctr_.down = true;  // containerd not up yet: the initial import cannot finish
  ImageImporter imp(Options());
  FakeImages images(&ctr_);
  imp.Start();
  ImportAwareImageService gated(&images, &imp, std::chrono::milliseconds(200));
  // Bounded: after max_wait the answer is what the runtime says (absent).
  auto early = gated.ImageStatus({"kite.local/a:1"});
  ASSERT_TRUE(early.ok());
  EXPECT_FALSE(early->has_value());
  {
    std::lock_guard<std::mutex> lock(ctr_.mu);
    ctr_.down = false;
  }
  ImportAwareImageService patient(&images, &imp, std::chrono::seconds(30));
  auto later = patient.ImageStatus({"kite.local/a:1"});
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->has_value());
  auto other = patient.ImageStatus({"kite.local/none:1"});
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
}

TEST(RunCommand, CapturesOutputAndReportsTheLastLineOnFailure) {
  auto ok = RunCommand({"sh", "-c", "echo one; echo two >&2"}, {});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, "one\ntwo\n");
  auto bad = RunCommand({"sh", "-c", "echo progress; echo 'ctr: boom' >&2; exit 1"}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "ctr: boom");
  auto silent = RunCommand({"false"}, {});
  ASSERT_FALSE(silent.ok());
  EXPECT_EQ(silent.status().message(), "false exited with 1");
  auto missing = RunCommand({"/nonexistent/ctr"}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/ctr"), std::string::npos);
}

TEST(RunCommand, FeedsTheDecompressorsOutput) {
  auto out = RunCommand({"cat"}, {"sh", "-c", "printf archive"});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "archive");
  auto bad = RunCommand({"cat"}, {"sh", "-c", "echo 'gzip: not in gzip format' >&2; exit 1"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("gzip: not in gzip format"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace kite::cri
