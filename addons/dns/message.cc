#include "addons/dns/message.h"

#include <arpa/inet.h>

#include <algorithm>

namespace kite::dns {

bool ReadName(const uint8_t* msg, size_t len, size_t* pos, std::string* out) {
  out->clear();
  size_t p = *pos;
  size_t end_after = 0;  // where the caller continues: set at the first pointer
  bool jumped = false;
  size_t wire = 1;       // octets of the uncompressed name, the root label included
  // A pointer must point strictly before the label it was found at, so every jump moves
  // backwards and the walk ends.
  size_t floor = p;
  while (true) {
    if (p >= len) return false;
    const uint8_t l = msg[p];
    if ((l & 0xC0) == 0xC0) {
      if (p + 1 >= len) return false;
      const size_t target = static_cast<size_t>((l & 0x3F) << 8 | msg[p + 1]);
      if (target >= floor) return false;
      if (!jumped) end_after = p + 2;
      jumped = true;
      p = floor = target;
      continue;
    }
    if ((l & 0xC0) != 0) return false;  // 0x40/0x80: extended and reserved label types
    if (l == 0) {
      *pos = jumped ? end_after : p + 1;
      return true;
    }
    if (p + 1 + l > len) return false;
    wire += 1 + l;
    if (wire > kMaxNameLength) return false;
    if (!out->empty()) out->push_back('.');
    for (size_t i = 0; i < l; ++i) {
      char c = static_cast<char>(msg[p + 1 + i]);
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
      if (c == '.' || c == '\\') out->push_back('\\');
      out->push_back(c);
    }
    p += 1 + l;
  }
}

bool SkipName(const uint8_t* msg, size_t len, size_t* pos) {
  size_t p = *pos;
  while (true) {
    if (p >= len) return false;
    const uint8_t l = msg[p];
    if ((l & 0xC0) == 0xC0) {
      if (p + 1 >= len) return false;
      *pos = p + 2;
      return true;
    }
    if ((l & 0xC0) != 0) return false;
    if (l == 0) {
      *pos = p + 1;
      return true;
    }
    p += 1 + l;
  }
}

bool AppendName(std::string_view name, std::string* out) {
  const size_t start = out->size();
  size_t wire = 1;
  while (!name.empty()) {
    const size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    wire += 1 + label.size();
    if (label.empty() || label.size() > 63 || wire > kMaxNameLength) {
      out->resize(start);
      return false;
    }
    out->push_back(static_cast<char>(label.size()));
    out->append(label);
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  out->push_back('\0');
  return true;
}

ParseResult ParseQuery(const uint8_t* msg, size_t len, Query* q) {
  // Field by field, so the name keeps its buffer from the previous query (no allocation).
  q->id = q->flags = q->qtype = q->qclass = 0;
  q->name.clear();
  q->question_end = 0;
  q->edns = q->dnssec_ok = false;
  q->udp_size = kMaxUdpPlain;
  q->edns_version = 0;
  if (len < kHeaderSize) return ParseResult::kDrop;
  q->id = Get16(msg);
  q->flags = Get16(msg + 2);
  if (q->flags & kFlagQR) return ParseResult::kDrop;
  const uint16_t qd = Get16(msg + 4), an = Get16(msg + 6), ns = Get16(msg + 8), ar = Get16(msg + 10);
  if (qd != 1) return ParseResult::kFormErr;
  size_t p = kHeaderSize;
  if (!ReadName(msg, len, &p, &q->name) || p + 4 > len) return ParseResult::kFormErr;
  q->qtype = Get16(msg + p);
  q->qclass = Get16(msg + p + 2);
  p += 4;
  q->question_end = p;
  // Answer and authority records (unusual in a query) are skipped; the additional section may
  // carry one OPT.
  const size_t records = size_t{an} + ns + ar;
  bool seen_opt = false;
  for (size_t i = 0; i < records; ++i) {
    const size_t owner = p;
    if (!SkipName(msg, len, &p) || p + 10 > len) return ParseResult::kFormErr;
    const uint16_t type = Get16(msg + p);
    const uint16_t rdlen = Get16(msg + p + 8);
    if (p + 10 + rdlen > len) return ParseResult::kFormErr;
    if (type == kTypeOPT) {
      // RFC 6891 6.1.1: one OPT, owner the root, in the additional section.
      if (seen_opt || i < size_t{an} + ns || msg[owner] != 0) return ParseResult::kFormErr;
      seen_opt = true;
      q->edns = true;
      q->udp_size = std::max<uint16_t>(Get16(msg + p + 2), kMaxUdpPlain);
      q->edns_version = msg[p + 5];
      q->dnssec_ok = (msg[p + 6] & 0x80) != 0;
    }
    p += 10 + rdlen;
  }
  return ParseResult::kOk;
}

void AppendOpt(uint16_t udp_size, uint16_t rcode, std::string* out) {
  uint8_t rr[11] = {0};  // root owner, type, class = payload size, ttl = ext-rcode/version/flags, rdlen 0
  Put16(rr + 1, kTypeOPT);
  Put16(rr + 3, udp_size);
  rr[5] = static_cast<uint8_t>(rcode >> 4);
  out->append(reinterpret_cast<const char*>(rr), sizeof(rr));
}

void BuildError(const uint8_t* req, const Query& q, uint16_t rcode, uint16_t our_udp_size, std::string* out) {
  out->clear();
  uint8_t h[kHeaderSize] = {0};
  Put16(h, q.id);
  const uint16_t flags = static_cast<uint16_t>(kFlagQR | (q.flags & (0x7800 | kFlagRD | kFlagCD)) | kFlagRA | (rcode & 0xF));
  Put16(h + 2, flags);
  const bool question = q.question_end > kHeaderSize;
  Put16(h + 4, question ? 1 : 0);
  Put16(h + 10, q.edns ? 1 : 0);
  out->append(reinterpret_cast<const char*>(h), sizeof(h));
  if (question) out->append(reinterpret_cast<const char*>(req) + kHeaderSize, q.question_end - kHeaderSize);
  if (q.edns) AppendOpt(our_udp_size, rcode, out);
}

bool InspectResponse(const uint8_t* msg, size_t len, ResponseInfo* info) {
  *info = ResponseInfo();
  if (len < kHeaderSize) return false;
  const uint16_t flags = Get16(msg + 2);
  info->rcode = flags & 0xF;
  info->truncated = (flags & kFlagTC) != 0;
  const uint16_t qd = Get16(msg + 4), an = Get16(msg + 6), ns = Get16(msg + 8), ar = Get16(msg + 10);
  info->answers = an;
  size_t p = kHeaderSize;
  for (uint16_t i = 0; i < qd; ++i) {
    if (!SkipName(msg, len, &p) || p + 4 > len) return false;
    p += 4;
  }
  bool any = false;
  uint32_t min_ttl = UINT32_MAX;
  const size_t records = size_t{an} + ns + ar;
  for (size_t i = 0; i < records; ++i) {
    if (!SkipName(msg, len, &p) || p + 10 > len) return false;
    const uint16_t type = Get16(msg + p);
    uint32_t ttl = Get32(msg + p + 4);
    if (ttl > 0x7FFFFFFF) ttl = 0;  // RFC 2181 8: treat as zero
    const uint16_t rdlen = Get16(msg + p + 8);
    if (p + 10 + rdlen > len) return false;
    if (type != kTypeOPT) {
      info->ttl_offsets.push_back(static_cast<uint32_t>(p + 4));
      if (i < size_t{an} + ns) {
        uint32_t t = ttl;
        if (type == kTypeSOA && i >= an) {
          info->has_soa = true;
          // The SOA's MINIMUM is the last 4 octets of its rdata (RFC 2308 5).
          if (rdlen >= 4) t = std::min(ttl, Get32(msg + p + 10 + rdlen - 4));
        }
        min_ttl = std::min(min_ttl, t);
        any = true;
      }
    }
    p += 10 + rdlen;
  }
  info->min_ttl = any ? min_ttl : 0;
  return true;
}

std::string ParseIp(std::string_view text) {
  std::string s(text);
  unsigned char buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 4);
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 16);
  return {};
}

std::string ReverseName(std::string_view ip) {
  std::string out;
  if (ip.size() == 4) {
    for (int i = 3; i >= 0; --i) out += std::to_string(static_cast<uint8_t>(ip[static_cast<size_t>(i)])) + ".";
    return out + "in-addr.arpa";
  }
  static const char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    const auto b = static_cast<uint8_t>(ip[static_cast<size_t>(i)]);
    out.push_back(kHex[b & 0xF]);
    out.push_back('.');
    out.push_back(kHex[b >> 4]);
    out.push_back('.');
  }
  return out + "ip6.arpa";
}

}  // namespace kite::dns
