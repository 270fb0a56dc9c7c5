#include "addons/dns/message.h"

#include <gtest/gtest.h>

#include "tests/unit/addons/dns/dns_test_util.h"

namespace kite::dns {
namespace {

using testing::MakeQuery;
using testing::QueryOptions;

const uint8_t* U(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

TEST(DnsMessage, ReadNameFollowsBackwardPointersAndLowersCase) {
  // "Web.Default" at 12, then "x" + pointer to 12.
  std::string m(12, '\0');
  AppendName("Web.Default", &m);
  const size_t second = m.size();
  m += "\x01x\xC0\x0C";
  size_t p = 12;
  std::string name;
  ASSERT_TRUE(ReadName(U(m), m.size(), &p, &name));
  EXPECT_EQ(name, "web.default");
  p = second;
  ASSERT_TRUE(ReadName(U(m), m.size(), &p, &name));
  EXPECT_EQ(name, "x.web.default");
  EXPECT_EQ(p, m.size());  // just past the pointer
}

TEST(DnsMessage, ReadNameRejectsLoopsForwardPointersAndOverlongNames) {
  std::string self(12, '\0');
  self += "\xC0\x0C";  // points at itself
  size_t p = 12;
  std::string name;
  EXPECT_FALSE(ReadName(U(self), self.size(), &p, &name));
  std::string fwd(12, '\0');
  fwd += std::string("\xC0\x0E\x01x\x00", 5);  // points forward
  p = 12;
  EXPECT_FALSE(ReadName(U(fwd), fwd.size(), &p, &name));
  std::string longname(12, '\0');
  for (int i = 0; i < 5; ++i) longname += '\x3F' + std::string(63, 'a');  // 320 octets
  longname += '\0';
  p = 12;
  EXPECT_FALSE(ReadName(U(longname), longname.size(), &p, &name));
  std::string cut(12, '\0');
  cut += "\x05" "ab";
  p = 12;
  EXPECT_FALSE(ReadName(U(cut), cut.size(), &p, &name));
  std::string reserved(12, '\0');
  reserved += std::string("\x41x\x00", 3);  // label type 01
  p = 12;
  EXPECT_FALSE(ReadName(U(reserved), reserved.size(), &p, &name));
}

TEST(DnsMessage, ADotInsideALabelIsEscaped) {
  std::string m(12, '\0');
  m += std::string("\x03" "a.b\x03svc\x00", 9);
  size_t p = 12;
  std::string name;
  ASSERT_TRUE(ReadName(U(m), m.size(), &p, &name));
  EXPECT_EQ(name, "a\\.b.svc");
}

TEST(DnsMessage, ParseQueryReadsQuestionAndEdns) {
  QueryOptions o;
  o.edns = true;
  o.udp_size = 4096;
  const std::string m = MakeQuery("Kubernetes.Default.svc.cluster.local", kTypeAAAA, o);
  Query q;
  ASSERT_EQ(ParseQuery(U(m), m.size(), &q), ParseResult::kOk);
  EXPECT_EQ(q.id, 0x1234);
  EXPECT_EQ(q.name, "kubernetes.default.svc.cluster.local");
  EXPECT_EQ(q.qtype, kTypeAAAA);
  EXPECT_EQ(q.qclass, kClassIN);
  EXPECT_TRUE(q.edns);
  EXPECT_EQ(q.udp_size, 4096);
  EXPECT_EQ(q.question_end, m.size() - 11);
  o.udp_size = 100;  // below 512 counts as 512 (RFC 6891 6.2.3)
  const std::string small = MakeQuery("a", kTypeA, o);
  ASSERT_EQ(ParseQuery(U(small), small.size(), &q), ParseResult::kOk);
  EXPECT_EQ(q.udp_size, 512);
}

TEST(DnsMessage, ParseQueryDropsOrRejectsMalformed) {
  Query q;
  const std::string ok = MakeQuery("a.b", kTypeA);
  EXPECT_EQ(ParseQuery(U(ok), 11, &q), ParseResult::kDrop);  // no header
  std::string response = ok;
  response[2] = static_cast<char>(response[2] | 0x80);
  EXPECT_EQ(ParseQuery(U(response), response.size(), &q), ParseResult::kDrop);  // QR: never answer a response
  std::string two = ok;
  Put16(reinterpret_cast<uint8_t*>(two.data()) + 4, 2);
  EXPECT_EQ(ParseQuery(U(two), two.size(), &q), ParseResult::kFormErr);
  std::string none = ok;
  Put16(reinterpret_cast<uint8_t*>(none.data()) + 4, 0);
  EXPECT_EQ(ParseQuery(U(none), none.size(), &q), ParseResult::kFormErr);
  EXPECT_EQ(ParseQuery(U(ok), ok.size() - 1, &q), ParseResult::kFormErr);  // question cut short
  std::string extra = ok;
  Put16(reinterpret_cast<uint8_t*>(extra.data()) + 10, 1);  // announces an additional record it lacks
  EXPECT_EQ(ParseQuery(U(extra), extra.size(), &q), ParseResult::kFormErr);
  QueryOptions o;
  o.edns = true;
  std::string two_opts = MakeQuery("a.b", kTypeA, o);
  two_opts += two_opts.substr(two_opts.size() - 11);
  Put16(reinterpret_cast<uint8_t*>(two_opts.data()) + 10, 2);
  EXPECT_EQ(ParseQuery(U(two_opts), two_opts.size(), &q), ParseResult::kFormErr);
}

TEST(DnsMessage, BuildErrorEchoesQuestionAndOpt) {
  QueryOptions o;
  o.edns = true;
  const std::string m = MakeQuery("x.y", kTypeA, o);
  Query q;
  ASSERT_EQ(ParseQuery(U(m), m.size(), &q), ParseResult::kOk);
  std::string out;
  BuildError(U(m), q, kBadVers, 1232, &out);
  auto r = testing::Decode(out);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.id, 0x1234);
  EXPECT_EQ(r.rcode, 0);  // BADVERS = 16: the low bits are 0, the OPT carries ext-rcode 1
  EXPECT_EQ(r.question, "x.y");
  ASSERT_NE(r.opt(), nullptr);
  EXPECT_EQ(r.opt()->data, "1232 ext=1");
}

TEST(DnsMessage, InspectResponseTakesTheSoaMinimumForNegativeAnswers) {
  std::string m(12, '\0');
  auto* h = reinterpret_cast<uint8_t*>(m.data());
  Put16(h + 2, kFlagQR | kNXDomain);
  Put16(h + 4, 1);
  Put16(h + 8, 1);
  AppendName("nope.example", &m);
  m += std::string("\x00\x01\x00\x01", 4);
  AppendName("example", &m);
  std::string rdata;
  AppendName("ns.example", &rdata);
  AppendName("host.example", &rdata);
  rdata += std::string("\x00\x00\x00\x01" "\x00\x00\x00\x02" "\x00\x00\x00\x03" "\x00\x00\x00\x04" "\x00\x00\x00\x3C", 20);
  uint8_t rr[10];
  Put16(rr, kTypeSOA);
  Put16(rr + 2, kClassIN);
  Put32(rr + 4, 3600);
  Put16(rr + 8, static_cast<uint16_t>(rdata.size()));
  m.append(reinterpret_cast<char*>(rr), 10);
  m += rdata;
  ResponseInfo info;
  ASSERT_TRUE(InspectResponse(U(m), m.size(), &info));
  EXPECT_EQ(info.rcode, kNXDomain);
  EXPECT_TRUE(info.has_soa);
  EXPECT_EQ(info.min_ttl, 60u);
  ASSERT_EQ(info.ttl_offsets.size(), 1u);
  EXPECT_FALSE(InspectResponse(U(m), m.size() - 1, &info));
}

TEST(DnsMessage, ReverseNames) {
  EXPECT_EQ(ReverseName(ParseIp("10.43.0.10")), "10.0.43.10.in-addr.arpa");
  EXPECT_EQ(ReverseName(ParseIp("fd00::1")),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa");
  EXPECT_TRUE(ParseIp("10.43.0").empty());
}

TEST(DnsMessage, AppendNameRejectsBadLabels) {
  std::string out = "x";
  EXPECT_FALSE(AppendName("a..b", &out));
  EXPECT_FALSE(AppendName(std::string(64, 'a') + ".b", &out));
  EXPECT_EQ(out, "x");
  EXPECT_TRUE(AppendName("", &out));
  EXPECT_EQ(out, std::string("x\0", 2));
}

}  // namespace
}  // namespace kite::dns
