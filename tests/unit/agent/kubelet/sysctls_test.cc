// Pod sysctls as upstream's kubelet admits them: the safe list, --allowed-unsafe-sysctls names
// and prefixes, the host's namespaces, names with slashes.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "agent/kubelet/sysctls.h"

namespace kite::kubelet {
namespace {

boost::json::object Pod(const std::string& sysctls, const std::string& extra = "") {
  return boost::json::parse(R"({"metadata":{"name":"p"},"spec":{"securityContext":{"sysctls":)" + sysctls + "}" + extra +
                            R"(,"containers":[{"name":"c"}]}})")
      .as_object();
}

TEST(Sysctls, SafeOnesAdmittedOthersForbidden) {
  auto a = SysctlAllowlist::Make({});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->Admit(Pod(R"([{"name":"net.ipv4.ip_unprivileged_port_start","value":"0"},{"name":"kernel.shm_rmid_forced","value":"1"}])")),
            std::nullopt);
  EXPECT_EQ(a->Admit(Pod(R"([{"name":"net.core.somaxconn","value":"1024"}])")),
            "forbidden sysctl: \"net.core.somaxconn\" not allowlisted");
  EXPECT_EQ(a->Admit(Pod(R"([{"name":"kernel.panic","value":"1"}])")), "forbidden sysctl: \"kernel.panic\" not allowlisted");
  // On the host's network a net sysctl would be the node's.
  EXPECT_EQ(a->Admit(Pod(R"([{"name":"net.ipv4.tcp_syncookies","value":"1"}])", R"(,"hostNetwork":true)")),
            "forbidden sysctl: \"net.ipv4.tcp_syncookies\" not allowed with host net enabled");
  EXPECT_EQ(a->Admit(Pod(R"([{"name":"kernel.shm_rmid_forced","value":"1"}])", R"(,"hostIPC":true)")),
            "forbidden sysctl: \"kernel.shm_rmid_forced\" not allowed with host ipc enabled");
  EXPECT_EQ(a->Admit(Pod("[]")), std::nullopt);
}

TEST(Sysctls, UnsafeAllowedByNameAndPrefix) {
  auto a = SysctlAllowlist::Make({"net.core.somaxconn", "kernel.msg*"});
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  EXPECT_EQ(a->Admit(Pod(R"([{"name":"net.core.somaxconn","value":"1024"},{"name":"kernel.msgmax","value":"65536"}])")), std::nullopt);
  EXPECT_NE(a->Admit(Pod(R"([{"name":"net.core.rmem_max","value":"1"}])")), std::nullopt);
  // Not namespaced by the kernel: a flag naming it is refused at start.
  auto bad = SysctlAllowlist::Make({"vm.overcommit_memory"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("not known to be namespaced"), std::string::npos);
  EXPECT_FALSE(SysctlAllowlist::Make({"kernel.*"}).ok());
}

TEST(Sysctls, SlashedNamesNormalized) {
  EXPECT_EQ(NormalizeSysctlName("net/ipv4/ip_local_port_range"), "net.ipv4.ip_local_port_range");
  EXPECT_EQ(NormalizeSysctlName("net/ipv4/conf/eth0.100/rp_filter"), "net.ipv4.conf.eth0/100.rp_filter");
  EXPECT_EQ(NormalizeSysctlName("net.ipv4.conf.eth0/100.rp_filter"), "net.ipv4.conf.eth0/100.rp_filter");
  auto s = PodSysctls(Pod(R"([{"name":"net/ipv4/tcp_syncookies","value":"1"}])"));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].first, "net.ipv4.tcp_syncookies");
  auto a = SysctlAllowlist::Make({});
  EXPECT_EQ(a->Admit(Pod(R"([{"name":"net/ipv4/tcp_syncookies","value":"1"}])")), std::nullopt);
}

}  // namespace
}  // namespace kite::kubelet
