// DnsServer on real loopback sockets: answers over UDP and TCP from its zone, forwards to an
// upstream (here a socket of the test), and answers SERVFAIL when the upstream never replies,
// and at once (no timeout waited out) when it refuses: an ICMP port unreachable or REFUSED.
#include "addons/dns/server.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <thread>

#include "tests/unit/addons/dns/dns_test_util.h"

namespace kite::dns {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using testing::Decode;
using testing::MakeQuery;
using testing::Obj;

std::shared_ptr<const Zone> TestZone() {
  return Zone::Build(ZoneConfig{},
                     {Obj(R"({"metadata":{"name":"web","namespace":"default"},"spec":{"clusterIP":"10.43.0.20"}})")}, {}, {});
}

class DnsServerTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> upstreams, std::chrono::milliseconds upstream_timeout = std::chrono::seconds(2)) {
    ServerOptions o;
    o.upstream_timeout = upstream_timeout;
    o.address = "127.0.0.1";
    o.port = 0;
    o.upstreams = std::move(upstreams);
    server_ = std::make_unique<DnsServer>(io_, o, TestZone());
    ASSERT_TRUE(server_->Start().ok());
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    io_.stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }
  // One UDP exchange from a fresh socket; "" on a 5 s timeout.
  std::string AskUdp(const std::string& query) {
    asio::io_context io;
    udp::socket s(io, udp::endpoint(udp::v4(), 0));
    const timeval tv{5, 0};
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    s.send_to(asio::buffer(query), udp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(server_->port())));
    std::string buf(65535, '\0');
    boost::system::error_code ec;
    const size_t n = s.receive(asio::buffer(buf), 0, ec);
    return ec ? "" : buf.substr(0, n);
  }
  asio::io_context io_{1};
  std::unique_ptr<DnsServer> server_;
  std::thread thread_;
};

TEST_F(DnsServerTest, AnswersOverUdpAndTcp) {
  StartServer({});
  auto r = Decode(AskUdp(MakeQuery("web.default.svc.cluster.local", kTypeA)));
  EXPECT_EQ(r.Data(kTypeA), std::vector<std::string>{"10.43.0.20"});

  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(server_->port())));
  // Two pipelined queries in one write; two framed replies.
  std::string wire;
  for (uint16_t id : {1, 2}) {
    testing::QueryOptions o;
    o.id = id;
    const std::string q = MakeQuery(id == 1 ? "web.default.svc.cluster.local" : "nope.default.svc.cluster.local", kTypeA, o);
    wire.push_back(static_cast<char>(q.size() >> 8));
    wire.push_back(static_cast<char>(q.size()));
    wire += q;
  }
  asio::write(s, asio::buffer(wire));
  for (int i = 0; i < 2; ++i) {
    uint8_t len[2];
    asio::read(s, asio::buffer(len));
    std::string body(Get16(len), '\0');
    asio::read(s, asio::buffer(body));
    auto reply = Decode(body);
    EXPECT_EQ(reply.rcode, reply.id == 1 ? kNoError : kNXDomain);
  }
}

TEST_F(DnsServerTest, ForwardsToTheUpstreamAndCaches) {
  asio::io_context up_io;
  udp::socket upstream(up_io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  StartServer({"127.0.0.1:" + std::to_string(upstream.local_endpoint().port())});
  int asked = 0;
  std::thread fake([&] {
    // Answers one query: the question back with one A record.
    std::string buf(65535, '\0');
    udp::endpoint from;
    const size_t n = upstream.receive_from(asio::buffer(buf), from);
    ++asked;
    Query q;
    ASSERT_EQ(ParseQuery(reinterpret_cast<const uint8_t*>(buf.data()), n, &q), ParseResult::kOk);
    std::string reply = buf.substr(0, q.question_end);
    auto* h = reinterpret_cast<uint8_t*>(reply.data());
    Put16(h + 2, kFlagQR | kFlagRD | kFlagRA);
    Put16(h + 6, 1);
    Put16(h + 10, 0);
    reply += std::string("\xC0\x0C\x00\x01\x00\x01\x00\x00\x00\x3C\x00\x04\xC0\x00\x02\x07", 16);
    upstream.send_to(asio::buffer(reply), from);
  });
  auto first = Decode(AskUdp(MakeQuery("www.example.org", kTypeA)));
  fake.join();
  EXPECT_EQ(first.Data(kTypeA), std::vector<std::string>{"192.0.2.7"});
  EXPECT_EQ(first.id, 0x1234);
  auto again = Decode(AskUdp(MakeQuery("www.example.org", kTypeA)));  // the fake answers no more
  EXPECT_EQ(again.Data(kTypeA), std::vector<std::string>{"192.0.2.7"});
  EXPECT_EQ(asked, 1);
}

TEST_F(DnsServerTest, ServfailWhenTheUpstreamNeverAnswers) {
  asio::io_context up_io;
  udp::socket silent(up_io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  StartServer({"127.0.0.1:" + std::to_string(silent.local_endpoint().port())});
  auto r = Decode(AskUdp(MakeQuery("www.example.org", kTypeA)));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.rcode, kServFail);
  EXPECT_EQ(r.question, "www.example.org");
}

// A UDP port of the loopback that nothing listens on: sending there gets ICMP port unreachable.
std::string ClosedPort() {
  asio::io_context io;
  udp::socket s(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::string ep = "127.0.0.1:" + std::to_string(s.local_endpoint().port());
  s.close();
  return ep;
}

// An upstream timeout of an hour: an answer within the client's 5 s proves none was waited out.
constexpr std::chrono::hours kNever{1};

TEST_F(DnsServerTest, ServfailAtOnceWhenTheUpstreamIsUnreachable) {
  StartServer({ClosedPort()}, kNever);
  for (int i = 0; i < 3; ++i) {  // every query, not just the first after the ICMP error
    auto r = Decode(AskUdp(MakeQuery("www.example.org", kTypeA)));
    ASSERT_TRUE(r.ok) << "no answer (waited for the upstream timeout?)";
    EXPECT_EQ(r.rcode, kServFail);
  }
}

TEST_F(DnsServerTest, MovesOnFromAnUnreachableUpstreamAtOnce) {
  asio::io_context up_io;
  udp::socket upstream(up_io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  StartServer({ClosedPort(), "127.0.0.1:" + std::to_string(upstream.local_endpoint().port())}, kNever);
  std::thread fake([&] {
    std::string buf(65535, '\0');
    udp::endpoint from;
    const size_t n = upstream.receive_from(asio::buffer(buf), from);
    Query q;
    ASSERT_EQ(ParseQuery(reinterpret_cast<const uint8_t*>(buf.data()), n, &q), ParseResult::kOk);
    std::string reply = buf.substr(0, q.question_end);
    auto* h = reinterpret_cast<uint8_t*>(reply.data());
    Put16(h + 2, kFlagQR | kFlagRD | kFlagRA);
    Put16(h + 6, 1);
    Put16(h + 10, 0);
    reply += std::string("\xC0\x0C\x00\x01\x00\x01\x00\x00\x00\x3C\x00\x04\xC0\x00\x02\x07", 16);
    upstream.send_to(asio::buffer(reply), from);
  });
  auto r = Decode(AskUdp(MakeQuery("www.example.org", kTypeA)));
  fake.join();
  ASSERT_TRUE(r.ok) << "no answer (waited for the upstream timeout?)";
  EXPECT_EQ(r.Data(kTypeA), std::vector<std::string>{"192.0.2.7"});
}

TEST_F(DnsServerTest, ServfailAtOnceWhenTheUpstreamAnswersRefused) {
  asio::io_context up_io;
  udp::socket upstream(up_io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  StartServer({"127.0.0.1:" + std::to_string(upstream.local_endpoint().port())}, kNever);
  std::thread fake([&] {
    std::string buf(65535, '\0');
    udp::endpoint from;
    const size_t n = upstream.receive_from(asio::buffer(buf), from);
    Query q;
    ASSERT_EQ(ParseQuery(reinterpret_cast<const uint8_t*>(buf.data()), n, &q), ParseResult::kOk);
    std::string reply = buf.substr(0, q.question_end);
    auto* h = reinterpret_cast<uint8_t*>(reply.data());
    Put16(h + 2, kFlagQR | kFlagRD | kRefused);
    Put16(h + 10, 0);
    upstream.send_to(asio::buffer(reply), from);
  });
  auto r = Decode(AskUdp(MakeQuery("www.example.org", kTypeA)));
  fake.join();
  ASSERT_TRUE(r.ok) << "no answer (waited for the upstream timeout?)";
  EXPECT_EQ(r.rcode, kServFail);
  EXPECT_EQ(r.question, "www.example.org");
}

}  // namespace
}  // namespace kite::dns
