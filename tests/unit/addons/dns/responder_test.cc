// The answer logic of kite-dns: a Zone built from Services, EndpointSlices and Pods, asked
// through the Responder the way clients ask, with the replies decoded.
#include "addons/dns/responder.h"

#include <gtest/gtest.h>

#include "tests/unit/addons/dns/dns_test_util.h"

namespace kite::dns {
namespace {

using testing::Decode;
using testing::MakeQuery;
using testing::Obj;
using testing::QueryOptions;
using testing::Reply;

Zone::Objects Services() {
  return {
      Obj(R"({"metadata":{"name":"web","namespace":"default"},"spec":{"type":"ClusterIP","clusterIP":"10.43.0.20",
             "clusterIPs":["10.43.0.20","fd00:43::20"],
             "ports":[{"name":"http","protocol":"TCP","port":80},{"port":8080}]}})"),
      Obj(R"({"metadata":{"name":"db","namespace":"prod"},"spec":{"clusterIP":"None",
             "ports":[{"name":"pg","port":5432}]}})"),
      Obj(R"({"metadata":{"name":"ext","namespace":"default"},"spec":{"type":"ExternalName","externalName":"Example.COM."}})"),
      Obj(R"({"metadata":{"name":"alias","namespace":"default"},"spec":{"type":"ExternalName",
             "externalName":"web.default.svc.cluster.local"}})"),
      Obj(R"({"metadata":{"name":"big","namespace":"default"},"spec":{"clusterIP":"None"}})"),
  };
}

Zone::Objects Slices() {
  std::string big = R"({"metadata":{"name":"big-1","namespace":"default","labels":{"kubernetes.io/service-name":"big"}},
                        "addressType":"IPv4","endpoints":[)";
  for (int i = 0; i < 40; ++i) big += std::string(i ? "," : "") + R"({"addresses":["10.42.9.)" + std::to_string(i + 1) + R"("]})";
  big += "]}";
  return {
      Obj(R"({"metadata":{"name":"db-abc","namespace":"prod","labels":{"kubernetes.io/service-name":"db"}},
             "addressType":"IPv4","ports":[{"name":"pg","protocol":"TCP","port":5432}],
             "endpoints":[{"addresses":["10.42.1.5"],"hostname":"db-0","conditions":{"ready":true}},
                          {"addresses":["10.42.2.6"],"conditions":{}},
                          {"addresses":["10.42.3.7"],"hostname":"db-2","conditions":{"ready":false}}]})"),
      Obj(big),
  };
}

Zone::Objects Pods() {
  return {
      Obj(R"({"metadata":{"name":"p","namespace":"default"},"spec":{},"status":{"phase":"Running","podIP":"10.42.0.7",
             "podIPs":[{"ip":"10.42.0.7"}]}})"),
      Obj(R"({"metadata":{"name":"done","namespace":"default"},"spec":{},"status":{"phase":"Succeeded","podIP":"10.42.0.8"}})"),
  };
}

class ResponderTest : public ::testing::Test {
 protected:
  Reply Ask(const std::string& name, uint16_t type, QueryOptions o = {}, Transport t = Transport::kUdp) {
    const std::string q = MakeQuery(name, type, o);
    std::string out;
    last_action_ = responder_.Respond(reinterpret_cast<const uint8_t*>(q.data()), q.size(), t, &out);
    last_size_ = out.size();
    return Decode(out);
  }
  static ZoneConfig Config(ZoneConfig::Pods pods = ZoneConfig::Pods::kVerified) {
    ZoneConfig c;
    c.pods = pods;
    return c;
  }
  Responder responder_{Zone::Build(Config(), Services(), Slices(), Pods()), /*can_forward=*/true};
  Action last_action_ = Action::kDrop;
  size_t last_size_ = 0;
};

void ExpectSoa(const Reply& r) {
  ASSERT_EQ(r.authority.size(), 1u);
  EXPECT_EQ(r.authority[0].type, kTypeSOA);
  EXPECT_EQ(r.authority[0].name, "cluster.local");
  EXPECT_EQ(r.authority[0].data, "ns.dns.cluster.local hostmaster.cluster.local 5");
}

TEST_F(ResponderTest, ClusterIpServiceHasAAndAaaa) {
  auto r = Ask("web.default.svc.cluster.local", kTypeA);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.rcode, kNoError);
  EXPECT_TRUE(r.aa());
  EXPECT_TRUE(r.flags & kFlagRA);
  EXPECT_TRUE(r.flags & kFlagRD);
  EXPECT_EQ(r.Data(kTypeA), std::vector<std::string>{"10.43.0.20"});
  EXPECT_EQ(r.answer[0].ttl, 5u);
  EXPECT_EQ(r.answer[0].name, "web.default.svc.cluster.local");
  EXPECT_TRUE(r.authority.empty());
  EXPECT_EQ(Ask("web.default.svc.cluster.local", kTypeAAAA).Data(kTypeAAAA), std::vector<std::string>{"fd00:43::20"});
}

TEST_F(ResponderTest, LetterCaseOfTheQuestionIsKept) {
  const std::string q = MakeQuery("WeB.DeFault.SVC.cluster.local", kTypeA);
  std::string out;
  ASSERT_EQ(responder_.Respond(reinterpret_cast<const uint8_t*>(q.data()), q.size(), Transport::kUdp, &out), Action::kReply);
  // The answer's owner is a pointer to the question, whose octets are the client's.
  EXPECT_NE(out.find("\x03WeB\x07" "DeFault"), std::string::npos);
  EXPECT_EQ(Decode(out).Data(kTypeA), std::vector<std::string>{"10.43.0.20"});
}

TEST_F(ResponderTest, NxdomainAndNodataCarryTheSoa) {
  auto nx = Ask("nope.default.svc.cluster.local", kTypeA);
  EXPECT_EQ(nx.rcode, kNXDomain);
  EXPECT_TRUE(nx.aa());
  EXPECT_TRUE(nx.answer.empty());
  ExpectSoa(nx);
  auto nodata = Ask("web.default.svc.cluster.local", kTypeTXT);
  EXPECT_EQ(nodata.rcode, kNoError);
  EXPECT_TRUE(nodata.answer.empty());
  ExpectSoa(nodata);
  // Empty non-terminals exist: NODATA, not NXDOMAIN.
  for (const char* name : {"default.svc.cluster.local", "svc.cluster.local", "pod.cluster.local"}) {
    auto r = Ask(name, kTypeA);
    EXPECT_EQ(r.rcode, kNoError) << name;
    ExpectSoa(r);
  }
  EXPECT_EQ(Ask("nosuchns.svc.cluster.local", kTypeA).rcode, kNXDomain);
  // The search path's tries (a name with the domain appended twice) are plain NXDOMAIN.
  EXPECT_EQ(Ask("web.default.svc.cluster.local.default.svc.cluster.local", kTypeA).rcode, kNXDomain);
  auto apex = Ask("cluster.local", kTypeSOA);
  EXPECT_EQ(apex.rcode, kNoError);
  ASSERT_EQ(apex.answer.size(), 1u);
  EXPECT_EQ(apex.answer[0].type, kTypeSOA);
}

TEST_F(ResponderTest, HeadlessServiceAnswersReadyEndpoints) {
  auto r = Ask("db.prod.svc.cluster.local", kTypeA);
  EXPECT_EQ(r.Data(kTypeA), (std::vector<std::string>{"10.42.1.5", "10.42.2.6"}));  // not the not-ready one
  EXPECT_EQ(Ask("db-0.db.prod.svc.cluster.local", kTypeA).Data(kTypeA), std::vector<std::string>{"10.42.1.5"});
  EXPECT_EQ(Ask("10-42-2-6.db.prod.svc.cluster.local", kTypeA).Data(kTypeA), std::vector<std::string>{"10.42.2.6"});
  EXPECT_EQ(Ask("db-2.db.prod.svc.cluster.local", kTypeA).rcode, kNXDomain);
}

TEST_F(ResponderTest, SrvForNamedPortsWithTargetsAddresses) {
  auto r = Ask("_http._tcp.web.default.svc.cluster.local", kTypeSRV);
  EXPECT_EQ(r.Data(kTypeSRV), std::vector<std::string>{"0 100 80 web.default.svc.cluster.local"});
  ASSERT_EQ(r.additional.size(), 2u);  // the A and AAAA of the target
  EXPECT_EQ(r.additional[0].name, "web.default.svc.cluster.local");
  auto h = Ask("_pg._tcp.db.prod.svc.cluster.local", kTypeSRV);
  EXPECT_EQ(h.Data(kTypeSRV), (std::vector<std::string>{"0 50 5432 10-42-2-6.db.prod.svc.cluster.local",
                                                         "0 50 5432 db-0.db.prod.svc.cluster.local"}));
  EXPECT_EQ(h.additional.size(), 2u);
  // The unnamed port only at the Service name.
  EXPECT_EQ(Ask("web.default.svc.cluster.local", kTypeSRV).Data(kTypeSRV).size(), 2u);
  EXPECT_EQ(Ask("_http._udp.web.default.svc.cluster.local", kTypeSRV).rcode, kNXDomain);
  EXPECT_EQ(Ask("_tcp.web.default.svc.cluster.local", kTypeSRV).rcode, kNoError);  // empty non-terminal
}

TEST_F(ResponderTest, ExternalNameIsACname) {
  auto r = Ask("ext.default.svc.cluster.local", kTypeA);
  EXPECT_EQ(r.rcode, kNoError);
  EXPECT_EQ(r.Data(kTypeCNAME), std::vector<std::string>{"example.com"});
  EXPECT_TRUE(r.Data(kTypeA).empty());  // out of zone: the client's resolver follows it
  // An in-zone target is followed.
  auto alias = Ask("alias.default.svc.cluster.local", kTypeA);
  EXPECT_EQ(alias.Data(kTypeCNAME), std::vector<std::string>{"web.default.svc.cluster.local"});
  EXPECT_EQ(alias.Data(kTypeA), std::vector<std::string>{"10.43.0.20"});
  auto alias_txt = Ask("alias.default.svc.cluster.local", kTypeTXT);
  EXPECT_EQ(alias_txt.Data(kTypeCNAME).size(), 1u);
  ExpectSoa(alias_txt);
}

// busybox's nslookup asks `kubernetes.default.` as written: <svc>.<ns> of an existing Service is
// a CNAME to its cluster name, followed; any other two-label name still goes upstream.
TEST_F(ResponderTest, ServiceDotNamespaceIsACnameToTheClusterName) {
  auto a = Ask("web.default", kTypeA);
  EXPECT_EQ(last_action_, Action::kReply);
  EXPECT_EQ(a.rcode, kNoError);
  EXPECT_TRUE(a.aa());
  EXPECT_EQ(a.Data(kTypeCNAME), std::vector<std::string>{"web.default.svc.cluster.local"});
  EXPECT_EQ(a.Data(kTypeA), std::vector<std::string>{"10.43.0.20"});
  EXPECT_EQ(Ask("Web.Default", kTypeAAAA).Data(kTypeAAAA), std::vector<std::string>{"fd00:43::20"});
  auto headless = Ask("db.prod", kTypeA);
  EXPECT_EQ(headless.Data(kTypeA), (std::vector<std::string>{"10.42.1.5", "10.42.2.6"}));
  auto txt = Ask("web.default", kTypeTXT);  // NODATA at the target
  EXPECT_EQ(txt.rcode, kNoError);
  EXPECT_EQ(txt.Data(kTypeCNAME).size(), 1u);
  ExpectSoa(txt);
  // Not a Service there: upstream's answer, as before.
  for (const char* name : {"web.prod", "nothing.default", "default", "example.com", "web.default.example.com"}) {
    Ask(name, kTypeA);
    EXPECT_EQ(last_action_, Action::kForward) << name;
  }
  // A Service never hides a name of the zone itself.
  Responder odd(Zone::Build(Config(),
                            {Obj(R"({"metadata":{"name":"cluster","namespace":"local"},"spec":{"clusterIP":"10.43.0.9"}})")},
                            {}, {}),
                /*can_forward=*/true);
  const std::string q = MakeQuery("cluster.local", kTypeSOA);
  std::string out;
  ASSERT_EQ(odd.Respond(reinterpret_cast<const uint8_t*>(q.data()), q.size(), Transport::kUdp, &out), Action::kReply);
  EXPECT_EQ(Decode(out).answer.size(), 1u);
  EXPECT_EQ(Decode(out).answer[0].type, kTypeSOA);
}

TEST_F(ResponderTest, PodRecordsVerifiedAndInsecure) {
  EXPECT_EQ(Ask("10-42-0-7.default.pod.cluster.local", kTypeA).Data(kTypeA), std::vector<std::string>{"10.42.0.7"});
  EXPECT_EQ(Ask("10-42-0-9.default.pod.cluster.local", kTypeA).rcode, kNXDomain);  // no such pod
  EXPECT_EQ(Ask("10-42-0-8.default.pod.cluster.local", kTypeA).rcode, kNXDomain);  // finished
  EXPECT_EQ(Ask("10-42-0-7.other.pod.cluster.local", kTypeA).rcode, kNXDomain);    // other namespace
  responder_.SetZone(Zone::Build(Config(ZoneConfig::Pods::kInsecure), Services(), Slices(), {}));
  EXPECT_EQ(Ask("1-2-3-4.any.pod.cluster.local", kTypeA).Data(kTypeA), std::vector<std::string>{"1.2.3.4"});
  auto nodata = Ask("1-2-3-4.any.pod.cluster.local", kTypeAAAA);
  EXPECT_EQ(nodata.rcode, kNoError);
  ExpectSoa(nodata);
  EXPECT_EQ(Ask("1-2-3.any.pod.cluster.local", kTypeA).rcode, kNXDomain);
}

TEST_F(ResponderTest, PtrForServicesEndpointsAndPods) {
  EXPECT_EQ(Ask("20.0.43.10.in-addr.arpa", kTypePTR).Data(kTypePTR), std::vector<std::string>{"web.default.svc.cluster.local"});
  EXPECT_EQ(Ask("5.1.42.10.in-addr.arpa", kTypePTR).Data(kTypePTR), std::vector<std::string>{"db-0.db.prod.svc.cluster.local"});
  EXPECT_EQ(Ask("7.0.42.10.in-addr.arpa", kTypePTR).Data(kTypePTR), std::vector<std::string>{"10-42-0-7.default.pod.cluster.local"});
  EXPECT_EQ(Ask(ReverseName(ParseIp("fd00:43::20")), kTypePTR).Data(kTypePTR),
            std::vector<std::string>{"web.default.svc.cluster.local"});
  // Addresses the cluster does not know go upstream.
  Ask("1.1.168.192.in-addr.arpa", kTypePTR);
  EXPECT_EQ(last_action_, Action::kForward);
}

TEST_F(ResponderTest, OtherNamesAreForwardedOrRefused) {
  Ask("example.com", kTypeA);
  EXPECT_EQ(last_action_, Action::kForward);
  Ask("notcluster.local", kTypeA);
  EXPECT_EQ(last_action_, Action::kForward);
  Responder alone(Zone::Empty(Config()), /*can_forward=*/false);
  const std::string q = MakeQuery("example.com", kTypeA);
  std::string out;
  EXPECT_EQ(alone.Respond(reinterpret_cast<const uint8_t*>(q.data()), q.size(), Transport::kUdp, &out), Action::kReply);
  EXPECT_EQ(Decode(out).rcode, kRefused);
}

TEST_F(ResponderTest, ProtocolErrors) {
  QueryOptions status_op;
  status_op.flags = 2 << 11;  // opcode STATUS
  EXPECT_EQ(Ask("web.default.svc.cluster.local", kTypeA, status_op).rcode, kNotImp);
  EXPECT_EQ(Ask("cluster.local", kTypeAXFR).rcode, kRefused);
  QueryOptions chaos;
  chaos.qclass = 3;
  EXPECT_EQ(Ask("web.default.svc.cluster.local", kTypeA, chaos).rcode, kRefused);
  QueryOptions v1;
  v1.edns = true;
  v1.edns_version = 1;
  auto badvers = Ask("web.default.svc.cluster.local", kTypeA, v1);
  ASSERT_NE(badvers.opt(), nullptr);
  EXPECT_EQ(badvers.opt()->data, "1232 ext=1");
  std::string two = MakeQuery("web.default.svc.cluster.local", kTypeA);
  Put16(reinterpret_cast<uint8_t*>(two.data()) + 4, 2);
  std::string out;
  ASSERT_EQ(responder_.Respond(reinterpret_cast<const uint8_t*>(two.data()), two.size(), Transport::kUdp, &out), Action::kReply);
  EXPECT_EQ(Decode(out).rcode, kFormErr);
  EXPECT_EQ(Decode(out).id, 0x1234);
  std::string garbage = "\x01\x02\x03";
  EXPECT_EQ(responder_.Respond(reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size(), Transport::kUdp, &out),
            Action::kDrop);
}

TEST_F(ResponderTest, EdnsSizeTruncationAndTcp) {
  // 40 addresses: 12 + 31 + 40 * 16 = 683 octets.
  auto plain = Ask("big.default.svc.cluster.local", kTypeA);
  EXPECT_TRUE(plain.tc());
  EXPECT_TRUE(plain.answer.empty());
  EXPECT_EQ(plain.question, "big.default.svc.cluster.local");
  EXPECT_LE(last_size_, 512u);
  QueryOptions edns;
  edns.edns = true;
  edns.udp_size = 4096;
  auto large = Ask("big.default.svc.cluster.local", kTypeA, edns);
  EXPECT_FALSE(large.tc());
  EXPECT_EQ(large.answer.size(), 40u);
  ASSERT_NE(large.opt(), nullptr);
  EXPECT_EQ(large.opt()->data, "1232");  // our payload size
  auto tcp = Ask("big.default.svc.cluster.local", kTypeA, {}, Transport::kTcp);
  EXPECT_FALSE(tcp.tc());
  EXPECT_EQ(tcp.answer.size(), 40u);
  EXPECT_EQ(tcp.opt(), nullptr);  // none asked, none given
  // An EDNS payload size between 512 and ours is honoured.
  edns.udp_size = 600;
  EXPECT_TRUE(Ask("big.default.svc.cluster.local", kTypeA, edns).tc());
}

TEST(DnsZone, EndpointsOverTheSizeCapAreCutNotOverflowed) {
  std::string slice = R"({"metadata":{"name":"huge-1","namespace":"ns","labels":{"kubernetes.io/service-name":"huge"}},
                          "endpoints":[)";
  for (int i = 0; i < 6000; ++i) {
    slice += std::string(i ? "," : "") + R"({"addresses":["10.)" + std::to_string(i / 65536 + 50) + "." +
             std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) + R"("]})";
  }
  slice += "]}";
  auto zone = Zone::Build(ZoneConfig{}, {Obj(R"({"metadata":{"name":"huge","namespace":"ns"},"spec":{"clusterIP":"None"}})")},
                          {Obj(slice)}, {});
  Responder r(zone, false);
  const std::string q = MakeQuery("huge.ns.svc.cluster.local", kTypeA);
  std::string out;
  r.Respond(reinterpret_cast<const uint8_t*>(q.data()), q.size(), Transport::kTcp, &out);
  EXPECT_LE(out.size(), kMaxMessage);
  auto reply = Decode(out);
  EXPECT_TRUE(reply.ok);
  EXPECT_GT(reply.answer.size(), 3000u);
}

}  // namespace
}  // namespace kite::dns
