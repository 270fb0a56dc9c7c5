// What reaches kite-dns from the network, untrusted: a request message (over UDP, or over TCP
// up to 64 KiB) and an upstream resolver's reply. The request goes through the Responder
// against a small cluster zone; a reply is never larger than the transport allows and always
// parses back. The same bytes are then taken as an upstream's reply to a fixed question and
// go through InspectResponse, the cache (Put, then Get) and Adapt. Nothing may crash, read out
// of bounds or loop.
#include <boost/json/parse.hpp>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "addons/dns/cache.h"
#include "addons/dns/responder.h"

namespace {

using kite::dns::Zone;

std::shared_ptr<const boost::json::object> Obj(const char* json) {
  return std::make_shared<const boost::json::object>(boost::json::parse(json).as_object());
}

std::shared_ptr<const Zone> MakeZone() {
  Zone::Objects services = {
      Obj(R"({"metadata":{"name":"web","namespace":"default"},"spec":{"clusterIPs":["10.43.0.20","fd00::20"],
             "ports":[{"name":"http","port":80}]}})"),
      Obj(R"({"metadata":{"name":"db","namespace":"default"},"spec":{"clusterIP":"None"}})"),
      Obj(R"({"metadata":{"name":"ext","namespace":"default"},"spec":{"type":"ExternalName","externalName":"web.default.svc.cluster.local"}})"),
  };
  Zone::Objects slices = {Obj(R"({"metadata":{"name":"db-1","namespace":"default","labels":{"kubernetes.io/service-name":"db"}},
      "ports":[{"name":"pg","port":5432}],"endpoints":[{"addresses":["10.42.0.5"],"hostname":"db-0"},{"addresses":["10.42.0.6"]}]})")};
  Zone::Objects pods = {Obj(R"({"metadata":{"name":"p","namespace":"default"},"status":{"podIP":"10.42.0.7"}})")};
  kite::dns::ZoneConfig c;
  c.pods = kite::dns::ZoneConfig::Pods::kInsecure;
  return Zone::Build(c, services, slices, pods);
}

void CheckReply(const std::string& out, size_t limit) {
  if (out.size() > limit || out.size() < kite::dns::kHeaderSize) std::abort();
  kite::dns::ResponseInfo info;
  if (!kite::dns::InspectResponse(reinterpret_cast<const uint8_t*>(out.data()), out.size(), &info)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kite::dns;
  static Responder* responder = new Responder(MakeZone(), /*can_forward=*/true);
  static AnswerCache* cache = new AnswerCache(AnswerCache::Options{});
  std::string out;
  for (Transport t : {Transport::kUdp, Transport::kTcp}) {
    if (responder->Respond(data, size, t, &out) == Action::kReply) {
      const Query& q = responder->query();
      CheckReply(out, q.question_end ? responder->Limit(q, t) : kMaxMessage);
    }
  }

  // As an upstream's reply to "www.example.com A" (its question copied from the input when it
  // has one, so the cache's paths past the question check are reached).
  static const std::string kQuestion = [] {
    std::string m(kHeaderSize, '\0');
    m[5] = 1;
    AppendName("www.example.com", &m);
    m += std::string("\x00\x01\x00\x01", 4);
    return m;
  }();
  Query q;
  if (ParseQuery(reinterpret_cast<const uint8_t*>(kQuestion.data()), kQuestion.size(), &q) != ParseResult::kOk) std::abort();
  ResponseInfo info;
  (void)InspectResponse(data, size, &info);
  if (size >= q.question_end) {
    std::string reply(reinterpret_cast<const char*>(data), size);
    reply.replace(kHeaderSize, q.question_end - kHeaderSize, kQuestion, kHeaderSize, q.question_end - kHeaderSize);
    const auto* r = reinterpret_cast<const uint8_t*>(reply.data());
    (void)AnswerCache::Adapt(q, r + kHeaderSize, r, reply.size(), &out);
    if (cache->Put(q, r, reply.size(), 0)) {
      AnswerCache::Kind kind;
      if (!cache->Get(q, reinterpret_cast<const uint8_t*>(kQuestion.data()), 0, &out, &kind)) std::abort();
    }
  }
  return 0;
}
