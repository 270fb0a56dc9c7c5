// Times past 2038-01-19 03:14:07 UTC (the last second of a 32-bit time_t, Debian 12 armhf's
// default) through every function of kite that turns a time into text, a file name or a
// certificate field, or reads one back (issue 21). Natively these pass either way: the suite is
// also built for armhf (kite-time64-tests, tests/cross/CMakeLists.txt) and run there under qemu by
// tests/integration/cross/qemu_smoke.sh, where a time_t, gmtime_r or OpenSSL "now" left in the
// path would wrap or fail.
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "agent/kubelet/logs/container_log_manager.h"
#include "api/time.h"
#include "base/civil_time.h"
#include "base/clock.h"
#include "base/pki.h"
#include "server/apiserver/filters/audit.h"
#include "server/apiserver/filters/audit_log.h"

namespace kite {
namespace {

using Tp = std::chrono::system_clock::time_point;
using std::chrono::microseconds;
using std::chrono::milliseconds;

Tp FromUnix(int64_t secs) { return Tp(std::chrono::seconds(secs)); }

constexpr int64_t k2038Last = 2147483647;  // 2038-01-19T03:14:07Z, INT32_MAX
constexpr int64_t k2040 = 2208988800;      // 2040-01-01T00:00:00Z
constexpr int64_t k2106 = 4294967296;      // 2106-02-07T06:28:16Z: past an unsigned 32-bit count too

TEST(Time64, KiteIsBuiltWithA64BitTimeT) {
  EXPECT_EQ(sizeof(time_t), 8u);
  EXPECT_EQ(sizeof(timespec{}.tv_sec), 8u);
  EXPECT_EQ(sizeof(off_t), 8u);
}

TEST(Time64, FormatUtcAcrossTheEndOf32BitTime) {
  EXPECT_EQ(FormatUtc(FromUnix(k2038Last), "%Y-%m-%dT%H:%M:%S"), "2038-01-19T03:14:07");
  EXPECT_EQ(FormatUtc(FromUnix(k2038Last + 1), "%Y-%m-%dT%H:%M:%S"), "2038-01-19T03:14:08");
  EXPECT_EQ(FormatUtc(FromUnix(k2040), "%Y-%m-%dT%H:%M:%S"), "2040-01-01T00:00:00");
  EXPECT_EQ(FormatUtc(FromUnix(k2106), "%Y-%m-%dT%H:%M:%S"), "2106-02-07T06:28:16");
  EXPECT_EQ(FormatUtc(FromUnix(k2040 + 59 * 86400), "%Y-%m-%d"), "2040-02-29");  // a leap day
  EXPECT_EQ(FormatUtc(FromUnix(-1) + milliseconds(500), "%Y-%m-%dT%H:%M:%S.%L"), "1969-12-31T23:59:59.500");
  EXPECT_EQ(FormatUtc(FromUnix(0), "100%% %q"), "100% %q");
}

// Each layout a converted caller uses, at 2040 and 2106.
TEST(Time64, EveryCallersLayoutPast2038) {
  const Tp t40 = FromUnix(k2040) + microseconds(123456), t106 = FromUnix(k2106) + microseconds(7000);
  // base/log.cc's klog prefix
  EXPECT_EQ(FormatUtc(t40, "I%m%d %H:%M:%S.%f "), "I0101 00:00:00.123456 ");
  // agent/kubelet/volumes/atomic_writer.cc's timestamped payload directory
  EXPECT_EQ(FormatUtc(t106, "..%Y_%m_%d_%H_%M_%S."), "..2106_02_07_06_28_16.");
  // base/pki.cc's certificate validity (GeneralizedTime form)
  EXPECT_EQ(FormatUtc(t106, "%Y%m%d%H%M%SZ"), "21060207062816Z");
  // api/time.cc (metav1.Time and MicroTime): also secrets encryption key names and kubelet stats
  EXPECT_EQ(api::FormatTime(t40), "2040-01-01T00:00:00Z");
  EXPECT_EQ(api::FormatMicroTime(t106), "2106-02-07T06:28:16.007000Z");
  EXPECT_EQ(api::ParseTime("2106-02-07T06:28:16.007Z"), t106);
  EXPECT_EQ(api::ParseTime(api::FormatMicroTime(t40)), t40);
}

TEST(Time64, AuditTimesPast2038) {
  const Tp t40 = FromUnix(k2040) + microseconds(1), t106 = FromUnix(k2106) + milliseconds(7);
  EXPECT_EQ(apiserver::audit::MicroTime(t40), "2040-01-01T00:00:00.000001Z");
  EXPECT_EQ(apiserver::audit::AuditBackupTime(t106), "2106-02-07T06-28-16.007");
  const std::string name = "audit-" + apiserver::audit::AuditBackupTime(t106) + ".log";
  EXPECT_EQ(apiserver::audit::ParseAuditBackupTime(name, "audit", ".log"), t106);
  EXPECT_EQ(apiserver::audit::ParseAuditBackupTime("audit-2040-01-01T00-00-00.000.log", "audit", ".log"),
            FromUnix(k2040));
  EXPECT_FALSE(apiserver::audit::ParseAuditBackupTime("audit-2040-01-01T00:00:00.000.log", "audit", ".log"));
  EXPECT_FALSE(apiserver::audit::ParseAuditBackupTime("other-2040-01-01T00-00-00.000.log", "audit", ".log"));
}

TEST(Time64, ContainerLogRotationNamesPast2038) {
  namespace fs = std::filesystem;
  const std::string dir = ::testing::TempDir() + "/time64-rotate-" + std::to_string(::getpid());
  fs::create_directories(dir);
  const std::string log = dir + "/0.log";
  std::ofstream(log) << std::string(100, 'x');
  kubelet::logs::ContainerLogOptions o;
  o.max_size = 100;
  o.max_files = 3;
  auto r = kubelet::logs::RotateLog(log, o, [&] { std::ofstream(log).flush(); return Status::Ok(); },
                                    FromUnix(k2106));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(*r);
  EXPECT_TRUE(fs::exists(dir + "/0.log.21060207-062816"));
  fs::remove_all(dir);
}

// Certificates valid past 2038: written from kite's 64-bit clock, read back without OpenSSL's
// time() (which Debian 12's armhf OpenSSL has with a 32-bit time_t).
TEST(Time64, CertificatesValidPast2038) {
  const auto now = Clock::Real()->Now();
  auto ca = pki::CreateCA("time64-ca", 365 * 40);
  ASSERT_TRUE(ca.ok()) << ca.status().message();
  auto info = pki::Inspect(ca->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_GT(info->not_after, FromUnix(k2040));
  EXPECT_LT(std::chrono::abs(info->not_after - (now + std::chrono::days(365 * 40))), std::chrono::minutes(1));

  pki::CertSpec spec;
  spec.common_name = "time64";
  spec.client = true;
  spec.days = 365 * 30;
  auto leaf = pki::Issue(*ca, spec);
  ASSERT_TRUE(leaf.ok());
  auto leaf_info = pki::Inspect(leaf->cert_pem);
  ASSERT_TRUE(leaf_info.ok());
  EXPECT_LT(std::chrono::abs(leaf_info->not_after - (now + std::chrono::days(365 * 30))), std::chrono::minutes(1));

  // The CSR API's expirationSeconds: 3e9 s (95 years) overflows a 32-bit long on armhf.
  auto csr = pki::CreateCsr(spec);
  ASSERT_TRUE(csr.ok());
  auto signed_pem = pki::SignCsr(*ca, csr->cert_pem, {"client auth"}, 3'000'000'000);
  ASSERT_TRUE(signed_pem.ok()) << signed_pem.status().message();
  auto csr_info = pki::Inspect(*signed_pem);
  ASSERT_TRUE(csr_info.ok());
  EXPECT_EQ(csr_info->not_after, info->not_after);  // capped at the CA's, as before
}

TEST(Time64, RealClockIsTheSystemClock) {
  EXPECT_LT(std::chrono::abs(Clock::Real()->Now() - std::chrono::system_clock::now()), std::chrono::seconds(5));
  EXPECT_GT(Clock::Real()->Now(), FromUnix(1700000000));
}

// kite's own stat() calls (container logs, image archives, volumes) on files written after 2038:
// with a 32-bit time_t glibc's stat fails on them with EOVERFLOW.
TEST(Time64, StatReadsFileTimesPast2038) {
  const std::string path = ::testing::TempDir() + "/time64-stat-" + std::to_string(::getpid());
  std::ofstream(path) << "x";
  const timespec times[2] = {{static_cast<time_t>(k2040), 0}, {static_cast<time_t>(k2106), 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0) << std::strerror(errno);
  EXPECT_EQ(static_cast<int64_t>(st.st_atim.tv_sec), k2040);
  EXPECT_EQ(static_cast<int64_t>(st.st_mtim.tv_sec), k2106);
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace kite
