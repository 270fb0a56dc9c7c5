#include "addons/dns/responder.h"

#include <algorithm>

namespace kite::dns {

size_t Responder::Limit(const Query& q, Transport transport) const {
  if (transport == Transport::kTcp) return kMaxMessage;
  if (!q.edns) return kMaxUdpPlain;
  return std::min(q.udp_size, udp_size_);
}

void Responder::Finish(const Query& q, size_t limit, std::string* out) const {
  const size_t opt = q.edns ? 11 : 0;
  if (out->size() + opt > limit) {
    out->resize(q.question_end);
    auto* h = reinterpret_cast<uint8_t*>(out->data());
    Put16(h + 2, static_cast<uint16_t>(Get16(h + 2) | kFlagTC));
    Put16(h + 6, 0);
    Put16(h + 8, 0);
    Put16(h + 10, 0);
  }
  if (q.edns) {
    auto* h = reinterpret_cast<uint8_t*>(out->data());
    Put16(h + 10, static_cast<uint16_t>(Get16(h + 10) + 1));
    AppendOpt(udp_size_, Get16(h + 2) & 0xF, out);
  }
}

Action Responder::Respond(const uint8_t* req, size_t len, Transport transport, std::string* out) {
  Query& q = query_;
  switch (ParseQuery(req, len, &q)) {
    case ParseResult::kDrop:
      return Action::kDrop;
    case ParseResult::kFormErr:
      BuildError(req, q, kFormErr, udp_size_, out);
      return Action::kReply;
    case ParseResult::kOk:
      break;
  }
  if (q.opcode() != 0) {
    BuildError(req, q, kNotImp, udp_size_, out);
    return Action::kReply;
  }
  if (q.edns && q.edns_version > 0) {
    BuildError(req, q, kBadVers, udp_size_, out);
    return Action::kReply;
  }
  if (!zone_->Owns(q.name)) {
    if (can_forward_) return Action::kForward;
    BuildError(req, q, kRefused, udp_size_, out);
    return Action::kReply;
  }
  if (q.qclass != kClassIN || q.qtype == kTypeAXFR || q.qtype == 251 /* IXFR */ || q.qtype == kTypeOPT) {
    BuildError(req, q, kRefused, udp_size_, out);
    return Action::kReply;
  }
  zone_->Answer(q.name, q.qtype, &answer_);
  out->clear();
  out->reserve(q.question_end + answer_.answer.size() + answer_.authority.size() + answer_.extra.size() + 11);
  uint8_t h[kHeaderSize];
  Put16(h, q.id);
  Put16(h + 2, static_cast<uint16_t>(kFlagQR | kFlagAA | (q.flags & (kFlagRD | kFlagCD)) | kFlagRA | answer_.rcode));
  Put16(h + 4, 1);
  Put16(h + 6, answer_.answer_count);
  Put16(h + 8, answer_.authority_count);
  Put16(h + 10, answer_.extra_count);
  out->append(reinterpret_cast<const char*>(h), sizeof(h));
  out->append(reinterpret_cast<const char*>(req) + kHeaderSize, q.question_end - kHeaderSize);
  out->append(answer_.answer);
  out->append(answer_.authority);
  out->append(answer_.extra);
  Finish(q, Limit(q, transport), out);
  return Action::kReply;
}

}  // namespace kite::dns
