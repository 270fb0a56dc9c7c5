// api/validation: DNS-1123 labels and subdomains in upstream's messages, on names of
// request-body length (linear scans, no recursion).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>

#include "api/validation.h"

namespace kite::api {
namespace {
namespace json = boost::json;

TEST(DnsNames, Label) {
  for (const char* s : {"a", "0", "my-name", "123-abc", "a-b-c"}) EXPECT_TRUE(IsDNS1123Label(s).empty()) << s;
  EXPECT_TRUE(IsDNS1123Label(std::string(63, 'a')).empty());
  for (const char* s : {"", "-a", "a-", "A", "a.b", "a_b", "é"}) {
    auto errs = IsDNS1123Label(s);
    ASSERT_EQ(errs.size(), 1u) << s;
    EXPECT_EQ(errs[0],
              "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
              "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
              "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
  }
  EXPECT_EQ(IsDNS1123Label(std::string(64, 'a')), std::vector<std::string>{"must be no more than 63 characters"});
  // Both messages for a long bad name, as upstream lists both.
  EXPECT_EQ(IsDNS1123Label(std::string(64, 'A')).size(), 2u);
}

TEST(LocalDescendingPath, RelativeWithoutBacksteps) {
  EXPECT_TRUE(IsLocalDescendingPath("profiles/audit.json").empty());
  EXPECT_TRUE(IsLocalDescendingPath("a..b/...").empty());  // names, not the parent dir
  EXPECT_EQ(IsLocalDescendingPath("/etc/x"), (std::vector<std::string>{"must be a relative path"}));
  EXPECT_EQ(IsLocalDescendingPath(".."), (std::vector<std::string>{"must not contain '..'"}));
  EXPECT_EQ(IsLocalDescendingPath("a/../../b"), (std::vector<std::string>{"must not contain '..'"}));
  EXPECT_EQ(IsLocalDescendingPath("/a/..").size(), 2u);
}

TEST(DnsNames, SubdomainOfRequestLength) {
  EXPECT_TRUE(IsDNS1123Subdomain("a.b-c.d").empty());
  EXPECT_EQ(IsDNS1123Subdomain("a..b").size(), 1u);
  // A name as long as a body may carry is answered, not recursed on.
  std::string long_name(2 * 1024 * 1024, 'a');
  EXPECT_EQ(IsDNS1123Subdomain(long_name), std::vector<std::string>{"must be no more than 253 characters"});
  long_name.back() = '-';
  EXPECT_EQ(IsDNS1123Subdomain(long_name).size(), 2u);
}

}  // namespace
}  // namespace kite::api
