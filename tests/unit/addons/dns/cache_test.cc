#include "addons/dns/cache.h"

#include <gtest/gtest.h>

#include "tests/unit/addons/dns/dns_test_util.h"

namespace kite::dns {
namespace {

using testing::Decode;
using testing::MakeQuery;

const uint8_t* U(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// An upstream's reply to `query`: its question, then one A record (ttl) or, for a negative
// reply, a SOA with the given MINIMUM; and an OPT at the end as upstreams add.
std::string UpstreamReply(const std::string& query, uint16_t rcode, uint32_t ttl, bool soa) {
  Query q;
  EXPECT_EQ(ParseQuery(U(query), query.size(), &q), ParseResult::kOk);
  std::string m = query.substr(0, q.question_end);
  auto* h = reinterpret_cast<uint8_t*>(m.data());
  Put16(h, 0x9999);  // the forwarder's own id
  Put16(h + 2, static_cast<uint16_t>(kFlagQR | kFlagRD | kFlagRA | rcode));
  Put16(h + 6, soa ? 0 : 1);
  Put16(h + 8, soa ? 1 : 0);
  Put16(h + 10, 1);
  uint8_t rr[10];
  if (!soa) {
    m += "\xC0\x0C";
    Put16(rr, kTypeA);
    Put16(rr + 2, kClassIN);
    Put32(rr + 4, ttl);
    Put16(rr + 8, 4);
    m.append(reinterpret_cast<char*>(rr), 10);
    m += std::string("\x01\x02\x03\x04", 4);
  } else {
    AppendName("example", &m);
    std::string rdata;
    AppendName("ns.example", &rdata);
    AppendName("host.example", &rdata);
    rdata += std::string(16, '\0');
    rdata += std::string("\x00\x00\x00", 3) + static_cast<char>(ttl);
    Put16(rr, kTypeSOA);
    Put16(rr + 2, kClassIN);
    Put32(rr + 4, 3600);
    Put16(rr + 8, static_cast<uint16_t>(rdata.size()));
    m.append(reinterpret_cast<char*>(rr), 10);
    m += rdata;
  }
  AppendOpt(1232, 0, &m);
  return m;
}

TEST(DnsCache, HitKeepsTheClientsIdAndCaseAndAgesTtls) {
  AnswerCache cache({});
  const std::string first = MakeQuery("www.example", kTypeA);
  Query q;
  ASSERT_EQ(ParseQuery(U(first), first.size(), &q), ParseResult::kOk);
  const std::string reply = UpstreamReply(first, kNoError, 30, false);
  ASSERT_TRUE(cache.Put(q, U(reply), reply.size(), 1000));
  testing::QueryOptions o;
  o.id = 0x4242;
  o.flags = 0;  // no RD
  const std::string second = MakeQuery("WWW.example", kTypeA, o);
  Query q2;
  ASSERT_EQ(ParseQuery(U(second), second.size(), &q2), ParseResult::kOk);
  std::string out;
  AnswerCache::Kind kind;
  ASSERT_TRUE(cache.Get(q2, U(second), 1010, &out, &kind));
  EXPECT_EQ(kind, AnswerCache::Kind::kSuccess);
  auto r = Decode(out);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.id, 0x4242);
  EXPECT_FALSE(r.flags & kFlagRD);
  EXPECT_NE(out.find("\x03WWW"), std::string::npos);
  ASSERT_EQ(r.answer.size(), 1u);
  EXPECT_EQ(r.answer[0].ttl, 20u);
  EXPECT_EQ(r.opt(), nullptr);  // the upstream's OPT is not passed on
  EXPECT_FALSE(cache.Get(q2, U(second), 1030, &out, &kind));  // expired
  EXPECT_EQ(cache.size(), 0u);
}

TEST(DnsCache, NegativeAnswersLastTheSoaMinimum) {
  AnswerCache cache({});
  const std::string query = MakeQuery("nope.example", kTypeA);
  Query q;
  ASSERT_EQ(ParseQuery(U(query), query.size(), &q), ParseResult::kOk);
  const std::string reply = UpstreamReply(query, kNXDomain, 60, true);
  ASSERT_TRUE(cache.Put(q, U(reply), reply.size(), 0));
  std::string out;
  AnswerCache::Kind kind;
  ASSERT_TRUE(cache.Get(q, U(query), 59, &out, &kind));
  EXPECT_EQ(kind, AnswerCache::Kind::kDenial);
  EXPECT_EQ(Decode(out).rcode, kNXDomain);
  EXPECT_FALSE(cache.Get(q, U(query), 60, &out, &kind));
  // A negative answer without SOA, SERVFAIL, or a zero TTL is not cached.
  std::string no_soa = reply.substr(0, q.question_end);
  Put16(reinterpret_cast<uint8_t*>(no_soa.data()) + 10, 0);
  EXPECT_FALSE(cache.Put(q, U(no_soa), no_soa.size(), 0));
  const std::string servfail = UpstreamReply(query, kServFail, 60, false);
  EXPECT_FALSE(cache.Put(q, U(servfail), servfail.size(), 0));
  const std::string zero = UpstreamReply(query, kNoError, 0, false);
  EXPECT_FALSE(cache.Put(q, U(zero), zero.size(), 0));
}

TEST(DnsCache, BoundedLeastRecentlyUsedFirst) {
  AnswerCache::Options o;
  o.capacity = 2;
  AnswerCache cache(o);
  std::vector<std::string> queries;
  std::vector<Query> qs(3);
  for (int i = 0; i < 3; ++i) {
    queries.push_back(MakeQuery("n" + std::to_string(i) + ".example", kTypeA));
    ASSERT_EQ(ParseQuery(U(queries[i]), queries[i].size(), &qs[i]), ParseResult::kOk);
  }
  std::string out;
  AnswerCache::Kind kind;
  for (int i = 0; i < 2; ++i) {
    const std::string r = UpstreamReply(queries[i], kNoError, 100, false);
    ASSERT_TRUE(cache.Put(qs[i], U(r), r.size(), 0));
  }
  ASSERT_TRUE(cache.Get(qs[0], U(queries[0]), 1, &out, &kind));  // n0 is now the most recent
  const std::string r2 = UpstreamReply(queries[2], kNoError, 100, false);
  ASSERT_TRUE(cache.Put(qs[2], U(r2), r2.size(), 1));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_TRUE(cache.Get(qs[0], U(queries[0]), 2, &out, &kind));
  EXPECT_FALSE(cache.Get(qs[1], U(queries[1]), 2, &out, &kind));
  EXPECT_TRUE(cache.Get(qs[2], U(queries[2]), 2, &out, &kind));
}

}  // namespace
}  // namespace kite::dns
