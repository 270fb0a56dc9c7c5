// The cache of answers from the upstream resolvers: bounded (least recently used out first),
// positive answers kept for their smallest TTL (at most max_ttl), negative answers (NXDOMAIN,
// or NOERROR without answers) for their SOA's negative TTL (RFC 2308; at most max_negative_ttl;
// without a SOA they are not cached). Truncated replies and other errors are not cached.
//
// Stored is the upstream's message without its OPT; a hit is rebuilt for the asking client:
// its id, its question bytes (same length: only the letter case may differ, so compression
// pointers stay valid), its RD bit, RA set and AA cleared, TTLs lowered by the entry's age. Not thread-safe: owned by
// the server's one thread.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "addons/dns/message.h"

namespace kite::dns {

class AnswerCache {
 public:
  struct Options {
    size_t capacity = 9984;  // entries (CoreDNS's default)
    uint32_t max_ttl = 3600, max_negative_ttl = 1800;
  };
  enum class Kind { kSuccess, kDenial };

  explicit AnswerCache(Options o) : options_(o) {}

  // Stores an upstream reply to `q`; `now_s` is a monotonic clock in seconds. Returns whether
  // it was cacheable. `msg` must be a parsed-OK response to exactly q's question.
  bool Put(const Query& q, const uint8_t* msg, size_t len, int64_t now_s);
  // On a hit, `out` holds the reply (header counts exclude any OPT, to be appended by the
  // caller) and `kind` what it was.
  bool Get(const Query& q, const uint8_t* req, int64_t now_s, std::string* out, Kind* kind);
  size_t size() const { return map_.size(); }

  // Turns an upstream reply `msg` (already checked to answer q's question) into the reply for
  // the client that asked q: its id, RD bit and question bytes (`question` = the request's
  // octets 12..q.question_end), the upstream's OPT dropped. False when the OPT is not the last
  // record (never seen in practice; not re-encoded).
  static bool Adapt(const Query& q, const uint8_t* question, const uint8_t* msg, size_t len, std::string* out);

  // The key of a question: name, type and class (and CD, whose answers may differ).
  static void Key(const Query& q, std::string* key);

 private:
  struct Entry {
    std::string key;
    std::string msg;
    std::vector<uint32_t> ttl_offsets;
    int64_t stored_s = 0, expires_s = 0;
    Kind kind = Kind::kSuccess;
  };
  Options options_;
  std::list<Entry> lru_;  // front: most recently used
  std::unordered_map<std::string, std::list<Entry>::iterator> map_;
  std::string key_;  // scratch
};

}  // namespace kite::dns
