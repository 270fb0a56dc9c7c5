// The serving certificate's wanted SANs: fixed names, the host's addresses, but not the pod
// network's (its bridge and VXLAN addresses appear after the first start and must not cause a
// new certificate at the next one).
#include "server/apiserver/certs.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace kite::apiserver {
namespace {

bool Has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

TEST(WantedSansTest, FixedNamesAndExtrasAlways) {
  auto sans = WantedSans({"kite.example", "192.0.2.7"}, "10.42.0.0/16", "10.43.0.1");
  for (const char* s : {"localhost", "kubernetes.default.svc.cluster.local", "127.0.0.1", "::1", "10.43.0.1",
                        "kite.example", "192.0.2.7"}) {
    EXPECT_TRUE(Has(sans, s)) << s;
  }
}

TEST(WantedSansTest, LeavesOutTheClusterCidrsAddresses) {
  // Every IPv4 address is inside 0.0.0.0/0: only the fixed ones and the extras remain.
  auto sans = WantedSans({"192.0.2.7"}, "0.0.0.0/0", "10.43.0.1");
  for (const auto& s : sans) {
    if (s.find('.') == std::string::npos || s.find_first_not_of("0123456789.") != std::string::npos) continue;
    EXPECT_TRUE(s == "127.0.0.1" || s == "10.43.0.1" || s == "192.0.2.7") << s;
  }
}

TEST(WantedSansTest, TheKubernetesServiceAddressOfTheServiceCidr) {
  auto sans = WantedSans({}, "10.42.0.0/16", "10.96.0.1");
  EXPECT_TRUE(Has(sans, "10.96.0.1"));
  EXPECT_FALSE(Has(sans, "10.43.0.1"));
}

}  // namespace
}  // namespace kite::apiserver
