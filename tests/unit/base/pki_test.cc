#include "base/pki.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace kite::pki {
namespace {

TEST(Pki, IssuesServerCertWithSansThatOpensslVerifies) {
  auto ca = CreateCA("kite-server-ca@1");
  ASSERT_TRUE(ca.ok()) << ca.status().message();
  CertSpec spec;
  spec.common_name = "kube-apiserver";
  spec.dns_names = {"localhost", "kubernetes.default.svc.cluster.local"};
  spec.ip_addresses = {"127.0.0.1", "10.43.0.1", "::1"};
  spec.server = true;
  auto leaf = Issue(*ca, spec);
  ASSERT_TRUE(leaf.ok()) << leaf.status().message();
  auto info = Inspect(leaf->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "kube-apiserver");
  EXPECT_EQ(info->dns_names, spec.dns_names);
  EXPECT_EQ(info->ip_addresses, spec.ip_addresses);
  EXPECT_FALSE(info->is_ca);
  EXPECT_TRUE(Inspect(ca->cert_pem)->is_ca);
  EXPECT_TRUE(SignedBy(leaf->cert_pem, ca->cert_pem));
  auto other = CreateCA("other");
  EXPECT_FALSE(SignedBy(leaf->cert_pem, other->cert_pem));
  auto days = std::chrono::duration_cast<std::chrono::hours>(info->not_after - std::chrono::system_clock::now()).count() / 24;
  EXPECT_GE(days, 364);
  EXPECT_LE(days, 365);

  // The real openssl tool agrees: the chain verifies for serverAuth.
  std::string dir = ::testing::TempDir();
  std::ofstream(dir + "/ca.pem") << ca->cert_pem;
  std::ofstream(dir + "/leaf.pem") << leaf->cert_pem;
  std::string cmd = "openssl verify -purpose sslserver -CAfile " + dir + "/ca.pem " + dir + "/leaf.pem >/dev/null 2>&1";
  if (std::system("command -v openssl >/dev/null 2>&1") == 0) {
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
}

TEST(Pki, ClientCertCarriesUserAndGroups) {
  auto ca = CreateCA("kite-client-ca");
  CertSpec spec;
  spec.common_name = "system:admin";
  spec.organizations = {"system:masters"};
  spec.client = true;
  auto leaf = Issue(*ca, spec);
  ASSERT_TRUE(leaf.ok());
  auto info = Inspect(leaf->cert_pem);
  EXPECT_EQ(info->common_name, "system:admin");
  EXPECT_EQ(info->organizations, std::vector<std::string>{"system:masters"});
}

TEST(Pki, RejectsBadInput) {
  auto ca = CreateCA("ca");
  CertSpec spec;
  spec.common_name = "x";
  spec.ip_addresses = {"not-an-ip"};
  EXPECT_EQ(Issue(*ca, spec).status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(Inspect("garbage").ok());
  EXPECT_FALSE(Issue(KeyPair{"nope", "nope"}, CertSpec{}).ok());
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace kite::pki
