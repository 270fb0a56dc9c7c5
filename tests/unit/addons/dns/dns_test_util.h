// Test helpers for kite-dns: build query messages and decode replies into readable records.
#pragma once

#include <arpa/inet.h>

#include <boost/json/parse.hpp>

#include <memory>
#include <string>
#include <vector>

#include "addons/dns/message.h"

namespace kite::dns::testing {

struct QueryOptions {
  uint16_t id = 0x1234;
  uint16_t flags = kFlagRD;
  uint16_t qclass = kClassIN;
  bool edns = false;
  uint16_t udp_size = 1232;
  uint8_t edns_version = 0;
};

inline std::string MakeQuery(const std::string& name, uint16_t qtype, QueryOptions o = {}) {
  std::string m(kHeaderSize, '\0');
  auto* h = reinterpret_cast<uint8_t*>(m.data());
  Put16(h, o.id);
  Put16(h + 2, o.flags);
  Put16(h + 4, 1);
  Put16(h + 10, o.edns ? 1 : 0);
  // Written label by label with the case as given (AppendName keeps case).
  AppendName(name, &m);
  uint8_t t[4];
  Put16(t, qtype);
  Put16(t + 2, o.qclass);
  m.append(reinterpret_cast<char*>(t), 4);
  if (o.edns) {
    uint8_t opt[11] = {0};
    Put16(opt + 1, kTypeOPT);
    Put16(opt + 3, o.udp_size);
    opt[6] = o.edns_version;
    m.append(reinterpret_cast<char*>(opt), sizeof(opt));
  }
  return m;
}

struct Record {
  std::string name;
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::string data;  // A/AAAA: the address; CNAME/PTR: the name; SRV: "prio weight port target"; SOA: "mname rname ... minimum"
};

struct Reply {
  bool ok = false;
  uint16_t id = 0, flags = 0, rcode = 0;
  std::string question;
  std::vector<Record> answer, authority, additional;
  bool tc() const { return flags & kFlagTC; }
  bool aa() const { return flags & kFlagAA; }
  const Record* opt() const {
    for (const auto& r : additional) {
      if (r.type == kTypeOPT) return &r;
    }
    return nullptr;
  }
  std::vector<std::string> Data(uint16_t type) const {
    std::vector<std::string> out;
    for (const auto& r : answer) {
      if (r.type == type) out.push_back(r.data);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

inline Reply Decode(const std::string& s) {
  Reply r;
  const auto* m = reinterpret_cast<const uint8_t*>(s.data());
  const size_t len = s.size();
  if (len < kHeaderSize) return r;
  r.id = Get16(m);
  r.flags = Get16(m + 2);
  r.rcode = r.flags & 0xF;
  size_t p = kHeaderSize;
  for (int i = 0, n = Get16(m + 4); i < n; ++i) {
    if (!ReadName(m, len, &p, &r.question)) return r;
    p += 4;
  }
  std::vector<Record>* sections[3] = {&r.answer, &r.authority, &r.additional};
  for (int sec = 0; sec < 3; ++sec) {
    for (int i = 0, n = Get16(m + 6 + 2 * sec); i < n; ++i) {
      Record rec;
      if (!ReadName(m, len, &p, &rec.name) || p + 10 > len) return r;
      rec.type = Get16(m + p);
      rec.ttl = Get32(m + p + 4);
      const size_t rdlen = Get16(m + p + 8);
      const size_t rd = p + 10;
      if (rd + rdlen > len) return r;
      char buf[64];
      size_t q = rd;
      std::string a, b;
      switch (rec.type) {
        case kTypeA:
          inet_ntop(AF_INET, m + rd, buf, sizeof(buf));
          rec.data = buf;
          break;
        case kTypeAAAA:
          inet_ntop(AF_INET6, m + rd, buf, sizeof(buf));
          rec.data = buf;
          break;
        case kTypeCNAME:
        case kTypePTR:
          ReadName(m, len, &q, &rec.data);
          break;
        case kTypeSRV:
          q = rd + 6;
          ReadName(m, len, &q, &a);
          rec.data = std::to_string(Get16(m + rd)) + " " + std::to_string(Get16(m + rd + 2)) + " " +
                     std::to_string(Get16(m + rd + 4)) + " " + a;
          break;
        case kTypeSOA:
          ReadName(m, len, &q, &a);
          ReadName(m, len, &q, &b);
          rec.data = a + " " + b + " " + std::to_string(Get32(m + q + 16));
          break;
        case kTypeOPT:
          rec.data = std::to_string(Get16(m + p + 2));  // payload size
          if (m[p + 4]) rec.data += " ext=" + std::to_string(m[p + 4]);
          break;
      }
      sections[sec]->push_back(rec);
      p = rd + rdlen;
    }
  }
  r.ok = p == len;
  return r;
}

inline std::shared_ptr<const boost::json::object> Obj(const std::string& json) {
  return std::make_shared<const boost::json::object>(boost::json::parse(json).as_object());
}

}  // namespace kite::dns::testing
