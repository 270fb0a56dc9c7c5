// kite-dns's DNS wire codec (RFC 1035, EDNS0 of RFC 6891), written here rather than taken from a
// library because the server's hot path is "parse one question, copy precomputed bytes": a
// general message object would cost more than the whole answer.
//
// Everything read here is untrusted network input (fuzzed by tests/fuzz/dns_message_fuzz.cc):
// every read is bounds-checked, compression pointers may only point backwards (so decoding
// always ends), names are limited to 255 octets, and nothing throws. Parsing never allocates
// more than the 255-octet name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kite::dns {

// RR types and classes kite-dns knows by name.
enum : uint16_t {
  kTypeA = 1,
  kTypeNS = 2,
  kTypeCNAME = 5,
  kTypeSOA = 6,
  kTypePTR = 12,
  kTypeTXT = 16,
  kTypeAAAA = 28,
  kTypeSRV = 33,
  kTypeOPT = 41,
  kTypeAXFR = 252,
  kTypeANY = 255,
  kClassIN = 1,
};

// Response codes (the low four bits; BADVERS needs the OPT record's extended bits).
enum : uint16_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNXDomain = 3,
  kNotImp = 4,
  kRefused = 5,
  kBadVers = 16,
};

constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxNameLength = 255;   // wire octets, root label included
constexpr size_t kMaxUdpPlain = 512;     // without EDNS0
constexpr size_t kMaxMessage = 65535;    // TCP's two-byte length

// Header flag bits (second and third octet as one big-endian uint16).
constexpr uint16_t kFlagQR = 0x8000, kFlagAA = 0x0400, kFlagTC = 0x0200, kFlagRD = 0x0100, kFlagRA = 0x0080,
                   kFlagCD = 0x0010;

inline uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t Get32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}
inline void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void Put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// Reads the (possibly compressed) name at msg[*pos] into `out` as lower-case dotted text without
// the trailing dot ("" is the root). A '.' or '\\' inside a label is escaped with '\\', so such a
// name never equals a real hostname. On success *pos is just past the name as it sits at *pos
// (after the first pointer, if any). False on any malformation.
bool ReadName(const uint8_t* msg, size_t len, size_t* pos, std::string* out);

// Advances *pos past the name there without decoding it (pointers are not followed, only their
// two octets skipped). False when the name runs off the end or has a reserved label type.
bool SkipName(const uint8_t* msg, size_t len, size_t* pos);

// Appends `name` (dotted, no trailing dot; "" is the root) in uncompressed wire form. Labels
// must be 1..63 octets; false (and nothing appended) otherwise or when the name exceeds 255.
bool AppendName(std::string_view name, std::string* out);

// A parsed query: the header, its one question and its EDNS0 OPT record, if any.
struct Query {
  uint16_t id = 0;
  uint16_t flags = 0;         // as received
  std::string name;           // lower case, dotted, no trailing dot
  uint16_t qtype = 0, qclass = 0;
  size_t question_end = 0;    // msg[12, question_end) is the question section, copied verbatim
  bool edns = false;
  uint16_t udp_size = 512;    // the requestor's payload size (at least 512)
  uint8_t edns_version = 0;
  bool dnssec_ok = false;
  uint8_t opcode() const { return static_cast<uint8_t>((flags >> 11) & 0xF); }
};

enum class ParseResult {
  kOk,
  kFormErr,  // answerable: the header was read; reply FORMERR with the request's id
  kDrop,     // not answerable: too short, or a response (QR set), never replied to (no loops)
};

// Parses a request message. kFormErr for anything but exactly one question, a bad name, a
// truncated section, more than one OPT record or an OPT outside the additional section's
// root-owned form; answer and authority sections are skipped (allowed by RFC 1035, unused).
ParseResult ParseQuery(const uint8_t* msg, size_t len, Query* q);

// Builds an error reply (FORMERR, SERVFAIL, NOTIMP, REFUSED...) with the question echoed when
// `q` was parsed far enough to have one (question_end > 0), and an OPT when the request had one.
void BuildError(const uint8_t* req, const Query& q, uint16_t rcode, uint16_t our_udp_size, std::string* out);

// Appends an OPT pseudo-record advertising `udp_size`, with the extended rcode bits of `rcode`.
void AppendOpt(uint16_t udp_size, uint16_t rcode, std::string* out);

// Walks a response message from an upstream server: the minimum TTL over its answer and
// authority records (for a negative answer RFC 2308's: min(SOA TTL, SOA MINIMUM)), and the
// offsets of every TTL field (OPT excluded) so a cached copy can be aged. False when the message
// does not parse; has_soa tells a negative answer's SOA was present.
struct ResponseInfo {
  uint16_t rcode = 0;
  uint16_t answers = 0;
  bool truncated = false;
  bool has_soa = false;
  uint32_t min_ttl = 0;
  std::vector<uint32_t> ttl_offsets;
};
bool InspectResponse(const uint8_t* msg, size_t len, ResponseInfo* info);

// "10.43.0.10" → 4 octets, "fd00::1" → 16 octets; empty when not an address.
std::string ParseIp(std::string_view text);
// The reverse name of a 4- or 16-octet address ("10.0.43.10.in-addr.arpa", nibbles under
// ip6.arpa), without trailing dot.
std::string ReverseName(std::string_view ip_octets);

}  // namespace kite::dns
