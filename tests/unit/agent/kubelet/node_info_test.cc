// A real node's measurements (agent/kubelet/node_info.h) from file contents and a fake root, and
// the status a node posts with them (conditions from health, allocatable).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>

#include "agent/kubelet/node_info.h"
#include "agent/kubelet/node_objects.h"
#include "api/object.h"
#include "api/quantity.h"
#include "tests/unit/datastore/test_util.h"

namespace kite::kubelet {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

TEST(NodeInfoTest, Meminfo) {
  const std::string m = "MemTotal:       16393520 kB\nMemFree:         1234 kB\nMemAvailable:   8000000 kB\nHugePages_Total:       0\n";
  EXPECT_EQ(ParseMeminfo(m, "MemTotal"), int64_t{16393520} * 1024);
  EXPECT_EQ(ParseMeminfo(m, "MemAvailable"), int64_t{8000000} * 1024);
  EXPECT_EQ(ParseMeminfo(m, "HugePages_Total"), 0);
  EXPECT_EQ(ParseMeminfo(m, "Mem"), std::nullopt);  // a prefix of a field is not the field
  EXPECT_EQ(ParseMeminfo(m, "SwapTotal"), std::nullopt);
}

TEST(NodeInfoTest, OsReleasePrettyName) {
  EXPECT_EQ(ParseOsReleasePrettyName("NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"),
            "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(ParseOsReleasePrettyName("PRETTY_NAME='Alpine Linux v3.19'\n"), "Alpine Linux v3.19");
  EXPECT_EQ(ParseOsReleasePrettyName("PRETTY_NAME=Buildroot\n"), "Buildroot");
  EXPECT_EQ(ParseOsReleasePrettyName("NAME=x\n"), "Linux");  // os-release's default
}

TEST(NodeInfoTest, DefaultRouteInterface) {
  const std::string route =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "eth1\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
      "eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n";
  EXPECT_EQ(ParseDefaultRouteInterface(route), "eth0");
  EXPECT_EQ(ParseDefaultRouteInterface("Iface\tDestination\n"), "");
}

TEST(NodeInfoTest, ReservedFlags) {
  std::vector<std::pair<std::string, std::string>> r;
  ASSERT_TRUE(ParseReserved("kube-reserved", {"cpu=100m", "memory=256Mi", "ephemeral-storage=1Gi", "pid=100"}, &r).ok());
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[1], (std::pair<std::string, std::string>{"memory", "256Mi"}));
  auto unknown = ParseReserved("system-reserved", {"gpu=1"}, &r);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("--system-reserved"), std::string::npos);
  EXPECT_FALSE(ParseReserved("kube-reserved", {"memory=lots"}, &r).ok());
  EXPECT_FALSE(ParseReserved("kube-reserved", {"memory"}, &r).ok());
  EXPECT_FALSE(ParseReserved("kube-reserved", {"cpu=-1"}, &r).ok());
}

TEST(NodeInfoTest, AllocatableIsCapacityMinusReservedAndHardEviction) {
  MachineInfo m;
  m.cpus = 4;
  m.memory_bytes = int64_t{8} * 1024 * 1024 * 1024;              // 8Gi
  m.ephemeral_storage_bytes = int64_t{100} * 1024 * 1024 * 1024;  // 100Gi
  m.kernel_version = "6.1.0";
  m.os_image = "Debian";
  NodeTemplate t;
  ASSERT_TRUE(SetMachine(m, 50, {{"cpu", "500m"}, {"memory", "1Gi"}, {"cpu", "250m"}, {"ephemeral-storage", "10Gi"}}, &t).ok());
  EXPECT_EQ(t.cpu, "4");
  EXPECT_EQ(t.memory, "8Gi");
  EXPECT_EQ(t.max_pods, 50);
  EXPECT_EQ(t.allocatable_cpu, "3250m");
  EXPECT_EQ(t.allocatable_memory, "7068Mi");  // 8Gi − 1Gi − 100Mi
  // 100Gi − 10% (nodefs.available) − 10Gi
  EXPECT_EQ(api::Quantity::Parse(t.allocatable_ephemeral_storage)->Value(),
            int64_t{100} * 1024 * 1024 * 1024 - int64_t{10737418240} - int64_t{10} * 1024 * 1024 * 1024);
  EXPECT_EQ(t.kernel_version, "6.1.0");
  // More reserved than there is: zero, never negative.
  NodeTemplate small;
  ASSERT_TRUE(SetMachine(m, 110, {{"memory", "64Gi"}}, &small).ok());
  EXPECT_EQ(small.allocatable_memory, "0");
}

TEST(NodeInfoTest, ReadsAFakeRoot) {
  const std::string root = datastore::testing::TempDir();
  auto put = [&](const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(root + path).parent_path());
    std::ofstream(root + path) << text;
  };
  put("/proc/meminfo", "MemTotal: 2048 kB\nMemAvailable: 1024 kB\n");
  put("/etc/os-release", "PRETTY_NAME=\"Kite Test OS\"\n");
  put("/etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  put("/sys/class/dmi/id/product_uuid", "4C4C4544-0042-3510-8051-B4C04F4E4E32\n");
  put("/proc/sys/kernel/random/boot_id", "b0b0b0b0-0000-4000-8000-000000000001\n");
  put("/proc/sys/kernel/pid_max", "1000\n");
  put("/proc/loadavg", "0.00 0.01 0.05 1/950 12345\n");
  auto m = ReadMachineInfo(root, root);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_GT(m->cpus, 0);
  EXPECT_EQ(m->memory_bytes, 2048 * 1024);
  EXPECT_GT(m->ephemeral_storage_bytes, 0);
  EXPECT_EQ(m->os_image, "Kite Test OS");
  EXPECT_EQ(m->machine_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(m->system_uuid, "4C4C4544-0042-3510-8051-B4C04F4E4E32");
  EXPECT_EQ(m->boot_id, "b0b0b0b0-0000-4000-8000-000000000001");
  put("/proc/meminfo", "nothing\n");
  EXPECT_FALSE(ReadMachineInfo(root, root).ok());
  fs::remove_all(root);
}

TEST(NodeInfoTest, StatusSaysHealthAndMachine) {
  NodeTemplate t;
  t.allocatable_cpu = "1500m";
  t.machine_id = "m1";
  t.system_uuid = "u1";
  t.boot_id = "b1";
  NodeIdentity id;
  id.name = "n1";  // no InternalIP: only the Hostname address
  NodeHealth health;
  health.disk_pressure = true;
  health.not_ready = "container runtime is down: connection refused";
  ConditionTimes since;
  const auto t0 = WallClock::time_point(std::chrono::seconds(1'700'000'000));
  since.fill(t0);
  since[1] = t0 + std::chrono::seconds(5);
  json::object st = BuildNodeStatus(t, id, health, since, t0 + std::chrono::seconds(9), "ignored");
  EXPECT_EQ(api::GetString(api::GetObject(st, "allocatable"), "cpu"), "1500m");
  EXPECT_EQ(api::GetString(api::GetObject(st, "capacity"), "cpu"), "4");
  const auto& conds = st["conditions"].as_array();
  ASSERT_EQ(conds.size(), 4u);
  EXPECT_EQ(api::GetString(conds[0].as_object(), "status"), "False");
  EXPECT_EQ(api::GetString(conds[1].as_object(), "status"), "True");
  EXPECT_EQ(api::GetString(conds[1].as_object(), "reason"), "KubeletHasDiskPressure");
  EXPECT_EQ(api::GetString(conds[1].as_object(), "lastTransitionTime"), "2023-11-14T22:13:25Z");
  EXPECT_EQ(api::GetString(conds[0].as_object(), "lastTransitionTime"), "2023-11-14T22:13:20Z");
  EXPECT_EQ(api::GetString(conds[3].as_object(), "status"), "False");
  EXPECT_EQ(api::GetString(conds[3].as_object(), "reason"), "KubeletNotReady");
  EXPECT_EQ(api::GetString(conds[3].as_object(), "message"), health.not_ready);
  const json::object& info = api::GetObject(st, "nodeInfo");
  EXPECT_EQ(api::GetString(info, "machineID"), "m1");
  EXPECT_EQ(api::GetString(info, "systemUUID"), "u1");
  EXPECT_EQ(api::GetString(info, "bootID"), "b1");
  ASSERT_EQ(st["addresses"].as_array().size(), 1u);
  EXPECT_EQ(api::GetString(st["addresses"].as_array()[0].as_object(), "type"), "Hostname");
  // No pod CIDR yet: the Node asks for none (the server's node IPAM assigns it).
  json::object node = BuildNode(t, id);
  EXPECT_FALSE(api::GetObject(node, "spec").contains("podCIDR"));
}

}  // namespace
}  // namespace kite::kubelet
