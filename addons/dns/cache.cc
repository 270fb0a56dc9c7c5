#include "addons/dns/cache.h"

#include <algorithm>
#include <cstring>

namespace kite::dns {

void AnswerCache::Key(const Query& q, std::string* key) {
  key->assign(q.name);
  key->push_back('\0');
  key->push_back(static_cast<char>(q.qtype >> 8));
  key->push_back(static_cast<char>(q.qtype));
  key->push_back(static_cast<char>(q.qclass >> 8));
  key->push_back(static_cast<char>(q.qclass));
  key->push_back((q.flags & kFlagCD) ? '1' : '0');
}

bool AnswerCache::Adapt(const Query& q, const uint8_t* question, const uint8_t* msg, size_t len, std::string* out) {
  if (len < q.question_end) return false;
  size_t keep = len;
  uint16_t ar = Get16(msg + 10);
  if (ar > 0) {
    size_t p = kHeaderSize, last = 0;
    for (size_t i = 0, n = Get16(msg + 4); i < n; ++i) {
      if (!SkipName(msg, len, &p)) return false;
      p += 4;
    }
    const size_t rr = size_t{Get16(msg + 6)} + Get16(msg + 8) + ar;
    for (size_t i = 0; i < rr; ++i) {
      last = p;
      if (!SkipName(msg, len, &p) || p + 10 > len) return false;
      const bool is_opt = Get16(msg + p) == kTypeOPT;
      if (is_opt && i + 1 != rr) return false;
      p += 10 + Get16(msg + p + 8);
      if (p > len) return false;
      if (is_opt) {
        keep = last;
        --ar;
      }
    }
  }
  out->assign(reinterpret_cast<const char*>(msg), keep);
  auto* m = reinterpret_cast<uint8_t*>(out->data());
  Put16(m, q.id);
  // We recurse for the client (RA) and are not the authority for what we forward (no AA).
  Put16(m + 2, static_cast<uint16_t>((Get16(m + 2) & ~(kFlagRD | kFlagAA)) | (q.flags & kFlagRD) | kFlagRA));
  Put16(m + 10, ar);
  std::memcpy(m + kHeaderSize, question, q.question_end - kHeaderSize);
  return true;
}

bool AnswerCache::Put(const Query& q, const uint8_t* msg, size_t len, int64_t now_s) {
  if (options_.capacity == 0) return false;
  ResponseInfo info;
  if (!InspectResponse(msg, len, &info) || info.truncated) return false;
  Kind kind;
  uint32_t ttl;
  if (info.rcode == kNoError && info.answers > 0) {
    kind = Kind::kSuccess;
    ttl = std::min(info.min_ttl, options_.max_ttl);
  } else if ((info.rcode == kNXDomain || info.rcode == kNoError) && info.has_soa) {
    kind = Kind::kDenial;
    ttl = std::min(info.min_ttl, options_.max_negative_ttl);
  } else {
    return false;
  }
  if (ttl == 0) return false;
  std::string adapted;
  if (!Adapt(q, msg + kHeaderSize, msg, len, &adapted)) return false;
  key_.clear();
  Key(q, &key_);
  if (auto it = map_.find(key_); it != map_.end()) {
    lru_.erase(it->second);
    map_.erase(it);
  }
  while (map_.size() >= options_.capacity) {
    map_.erase(lru_.back().key);
    lru_.pop_back();
  }
  Entry e;
  e.key = key_;
  e.msg = std::move(adapted);
  for (uint32_t off : info.ttl_offsets) {
    if (off + 4 <= e.msg.size()) e.ttl_offsets.push_back(off);
  }
  e.stored_s = now_s;
  e.expires_s = now_s + ttl;
  e.kind = kind;
  lru_.push_front(std::move(e));
  map_.emplace(lru_.front().key, lru_.begin());
  return true;
}

bool AnswerCache::Get(const Query& q, const uint8_t* req, int64_t now_s, std::string* out, Kind* kind) {
  key_.clear();
  Key(q, &key_);
  auto it = map_.find(key_);
  if (it == map_.end()) return false;
  Entry& e = *it->second;
  if (now_s >= e.expires_s || e.msg.size() < q.question_end) {
    lru_.erase(it->second);
    map_.erase(it);
    return false;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  out->assign(e.msg);
  auto* m = reinterpret_cast<uint8_t*>(out->data());
  Put16(m, q.id);
  Put16(m + 2, static_cast<uint16_t>((Get16(m + 2) & ~kFlagRD) | (q.flags & kFlagRD)));
  std::memcpy(m + kHeaderSize, req + kHeaderSize, q.question_end - kHeaderSize);
  const auto age = static_cast<uint32_t>(now_s - e.stored_s);
  for (uint32_t off : e.ttl_offsets) {
    const uint32_t ttl = Get32(m + off);
    Put32(m + off, ttl > age ? ttl - age : 0);
  }
  *kind = e.kind;
  return true;
}

}  // namespace kite::dns
