#include "base/spdy.h"

#include <algorithm>
#include <cctype>

namespace kite::spdy {

namespace {

void Put32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

uint32_t Get32(std::string_view s, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

// flags (8 bits) and length (24 bits), the second word of every frame header.
void PutFlagsLength(std::string& out, uint8_t flags, size_t length) {
  Put32(out, (static_cast<uint32_t>(flags) << 24) | static_cast<uint32_t>(length & 0xffffff));
}

std::string ControlHeader(uint16_t type, uint8_t flags, size_t length) {
  std::string out;
  out.push_back(static_cast<char>(0x80));  // control bit, version 3
  out.push_back(0x03);
  out.push_back(static_cast<char>(type >> 8));
  out.push_back(static_cast<char>(type & 0xff));
  PutFlagsLength(out, flags, length);
  return out;
}

}  // namespace

Result<std::optional<Frame>> FrameReader::Next() {
  const std::string_view rest = std::string_view(buf_).substr(at_);
  if (rest.size() < 8) return std::optional<Frame>();
  const uint32_t w0 = Get32(rest, 0);
  const uint32_t w1 = Get32(rest, 4);
  const size_t length = w1 & 0xffffff;
  if (rest.size() < 8 + length) return std::optional<Frame>();
  Frame f;
  f.control = (w0 & 0x80000000u) != 0;
  f.flags = static_cast<uint8_t>(w1 >> 24);
  f.payload.assign(rest.substr(8, length));
  if (f.control) {
    const uint32_t version = (w0 >> 16) & 0x7fff;
    if (version != 3) return Status(Code::kInvalidArgument, "SPDY control frame of version " + std::to_string(version));
    f.type = static_cast<uint16_t>(w0 & 0xffff);
    const bool has_id = f.type == kSynStream || f.type == kSynReply || f.type == kRstStream || f.type == kHeaders ||
                        f.type == kWindowUpdate || f.type == kPing;
    if (has_id && f.payload.size() >= 4) f.stream_id = Get32(f.payload, 0) & 0x7fffffffu;
  } else {
    f.stream_id = w0 & 0x7fffffffu;
  }
  at_ += 8 + length;
  // Drop the consumed prefix once it is most of the buffer, so it does not grow with the session.
  if (at_ > 64 * 1024 && at_ * 2 > buf_.size()) {
    buf_.erase(0, at_);
    at_ = 0;
  }
  return std::optional<Frame>(std::move(f));
}

std::string HeaderWriter::Block(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string plain;
  Put32(plain, static_cast<uint32_t>(headers.size()));
  for (const auto& [name, value] : headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    Put32(plain, static_cast<uint32_t>(lower.size()));
    plain += lower;
    Put32(plain, static_cast<uint32_t>(value.size()));
    plain += value;
  }
  std::string out;
  if (!started_) {
    // zlib header: deflate, 32 KiB window, no preset dictionary; (0x78 * 256 + 0x01) % 31 == 0.
    out.push_back(0x78);
    out.push_back(0x01);
    started_ = true;
  }
  // Stored blocks (BFINAL 0, BTYPE 00; byte-aligned), at most 65,535 bytes each.
  for (size_t at = 0; at < plain.size(); at += 0xffff) {
    const size_t n = std::min<size_t>(0xffff, plain.size() - at);
    out.push_back(0x00);
    out.push_back(static_cast<char>(n & 0xff));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(~n & 0xff));
    out.push_back(static_cast<char>((~n >> 8) & 0xff));
    out.append(plain, at, n);
  }
  // An empty stored block ends each header block, as zlib's Z_SYNC_FLUSH does: inflaters (Go's
  // among them) hand out a stored block's bytes only when the next block begins.
  out.append("\x00\x00\x00\xff\xff", 5);
  return out;
}

std::string SynStream(uint32_t stream_id, const std::string& header_block, uint8_t flags) {
  std::string out = ControlHeader(kSynStream, flags, 10 + header_block.size());
  Put32(out, stream_id & 0x7fffffffu);
  Put32(out, 0);        // associated-to stream: none
  out.push_back(0x00);  // priority 0 (highest), unused bits
  out.push_back(0x00);  // slot
  out += header_block;
  return out;
}

std::string Data(uint32_t stream_id, std::string_view data, uint8_t flags) {
  std::string out;
  out.reserve(8 + data.size());
  Put32(out, stream_id & 0x7fffffffu);
  PutFlagsLength(out, flags, data.size());
  out.append(data);
  return out;
}

std::string Ping(uint32_t id) {
  std::string out = ControlHeader(kPing, 0, 4);
  Put32(out, id);
  return out;
}

}  // namespace kite::spdy
