// SPDY/3.1 framing, the client's part kite needs: the API server opens the streams of a
// remote-command session (exec, attach) toward the kubelet when the client came over WebSocket
// (server/apiserver/kubelet/stream_translator.h). Port-forward and SPDY clients never need it: their
// SPDY is relayed as bytes.
//
// Wire (draft-mbelshe-httpbis-spdy-00, as moby/spdystream speaks it): every frame has an 8-byte
// header. Control frames: bit 31 set, version 3, a 16-bit type, then flags (8 bits) and a
// 24-bit length. Data frames: bit 31 clear, the 31-bit stream id, flags, length. Stream ids a
// client creates are odd and increasing.
//
// Header blocks (SYN_STREAM) are one zlib stream per direction of a connection. The writer here
// emits it as stored (uncompressed) deflate blocks, each header block ended by an empty one (a
// sync flush), which any inflater reads (the SPDY dictionary only matters to a compressor that
// refers to it). Header blocks the server sends (SYN_REPLY, HEADERS) are skipped, never
// inflated: the session needs only their stream ids.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kite::spdy {

inline constexpr uint8_t kFlagFin = 0x01;

enum ControlType : uint16_t {
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
};

struct Frame {
  bool control = false;
  uint16_t type = 0;  // control frames only
  uint8_t flags = 0;
  // Data frames: the stream's. Control frames whose payload starts with a stream id (SYN_STREAM,
  // SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE): that id; PING: its id; otherwise 0.
  uint32_t stream_id = 0;
  std::string payload;  // everything after the 8-byte header
};

// Cuts a byte stream into frames. Append what arrived, then take frames until none is complete.
class FrameReader {
 public:
  void Append(std::string_view bytes) { buf_.append(bytes); }
  // The next whole frame, or nullopt when more bytes are needed. InvalidArgument for a control
  // frame of another version than 3 (the connection is not SPDY/3).
  Result<std::optional<Frame>> Next();

 private:
  std::string buf_;
  size_t at_ = 0;  // consumed prefix of buf_
};

// The header blocks of one connection's direction (one zlib stream).
class HeaderWriter {
 public:
  // Names are written lower-case, as SPDY/3 requires.
  std::string Block(const std::vector<std::pair<std::string, std::string>>& headers);

 private:
  bool started_ = false;
};

std::string SynStream(uint32_t stream_id, const std::string& header_block, uint8_t flags = 0);
// `data` may be empty (a FIN alone). At most 16 MiB - 1 (the 24-bit length).
std::string Data(uint32_t stream_id, std::string_view data, uint8_t flags = 0);
// The answer to a PING the server sent: the same id.
std::string Ping(uint32_t id);

}  // namespace kite::spdy
