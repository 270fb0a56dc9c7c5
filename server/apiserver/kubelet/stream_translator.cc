#include "server/apiserver/kubelet/stream_translator.h"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <cstdint>
#include <deque>
#include <memory>

#include "base/spdy.h"

namespace kite::apiserver {
namespace asio = boost::asio;

HttpsRequest SpdyUpgradeRequest(std::string_view stream_protocol) {
  HttpsRequest r;
  r.method = "POST";
  r.headers["connection"] = "Upgrade";
  r.headers["upgrade"] = "SPDY/3.1";
  r.headers["x-stream-protocol-version"] = std::string(stream_protocol);
  r.headers["user-agent"] = "kite-apiserver";
  return r;
}

namespace {

constexpr size_t kChunk = 64 * 1024;

// Frames to the kubelet come from both directions (stdin from the client's side, PING answers
// from the kubelet's): one write at a time, in order.
class SerialWriter {
 public:
  explicit SerialWriter(ByteStream& to) : to_(to) {}
  asio::awaitable<bool> Write(std::string frame) {
    if (broken_) co_return false;
    queue_.push_back(std::move(frame));
    if (writing_) co_return true;
    writing_ = true;
    while (!queue_.empty() && !broken_) {
      std::string next = std::move(queue_.front());
      queue_.pop_front();
      const std::string_view view(next);
      if (!co_await to_.Write(view)) broken_ = true;
    }
    queue_.clear();
    writing_ = false;
    co_return !broken_;
  }

 private:
  ByteStream& to_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool broken_ = false;
};

struct Session {
  Session(WebSocket& c, bool v, ByteStream& k) : client(c), v5(v), kubelet(k), writer(k) {}
  WebSocket& client;
  bool v5;
  ByteStream& kubelet;
  SerialWriter writer;
  // SPDY stream ids; 0 for a stream the session does not have.
  uint32_t error_id = 0, stdin_id = 0, stdout_id = 0, stderr_id = 0, resize_id = 0;
  bool stdin_open = false;
};

// Channel 0 (stdin) and 4 (resize) to their SPDY streams; v5's close of channel 0 as a FIN.
asio::awaitable<void> ClientToKubelet(Session& s) {
  for (;;) {
    auto msg = co_await s.client.Read();
    if (!msg) break;
    if (msg->empty()) continue;
    const auto channel = static_cast<unsigned char>((*msg)[0]);
    const std::string_view data = std::string_view(*msg).substr(1);
    bool ok = true;
    if (channel == 0 && s.stdin_open) {
      for (size_t at = 0; ok && at < data.size(); at += kChunk) {
        std::string frame = spdy::Data(s.stdin_id, data.substr(at, kChunk));
        ok = co_await s.writer.Write(std::move(frame));
      }
    } else if (channel == 4 && s.resize_id != 0 && !data.empty()) {
      std::string frame = spdy::Data(s.resize_id, data);
      ok = co_await s.writer.Write(std::move(frame));
    } else if (channel == 255 && s.v5 && data.size() == 1 && data[0] == 0 && s.stdin_open) {
      s.stdin_open = false;
      std::string frame = spdy::Data(s.stdin_id, {}, spdy::kFlagFin);
      ok = co_await s.writer.Write(std::move(frame));
    }
    if (!ok) break;
  }
  // The client is gone (or closed after the session ended): nothing more to relay.
  s.kubelet.Close();
}

// Output and the final status from the SPDY streams to channels 1, 2 and 3.
asio::awaitable<void> KubeletToClient(Session& s, std::string early) {
  spdy::FrameReader reader;
  reader.Append(early);
  bool error_done = false;
  bool stdout_done = s.stdout_id == 0;
  bool stderr_done = s.stderr_id == 0;
  auto finished = [&](uint32_t id) {
    if (id == s.error_id) error_done = true;
    if (id == s.stdout_id) stdout_done = true;
    if (id == s.stderr_id) stderr_done = true;
  };
  auto buf = std::make_unique<char[]>(kChunk);
  bool ended = false;
  while (!ended) {
    for (;;) {
      auto next = reader.Next();
      if (!next.ok()) {
        ended = true;
        break;
      }
      if (!next->has_value()) break;
      spdy::Frame f = std::move(**next);
      if (!f.control) {
        int channel = -1;
        if (f.stream_id == s.stdout_id) channel = 1;
        if (f.stream_id == s.stderr_id) channel = 2;
        if (f.stream_id == s.error_id) channel = 3;
        if (channel >= 0 && !f.payload.empty()) {
          std::string msg(1, static_cast<char>(channel));
          msg += f.payload;
          if (!co_await s.client.WriteBinary(msg)) {
            ended = true;
            break;
          }
        }
        if (f.flags & spdy::kFlagFin) finished(f.stream_id);
      } else if (f.type == spdy::kSynReply && (f.flags & spdy::kFlagFin)) {
        finished(f.stream_id);
      } else if (f.type == spdy::kRstStream) {
        finished(f.stream_id);
        if (f.stream_id == s.stdin_id) s.stdin_open = false;
      } else if (f.type == spdy::kPing) {
        std::string pong = spdy::Ping(f.stream_id);
        co_await s.writer.Write(std::move(pong));
      } else if (f.type == spdy::kGoAway) {
        ended = true;
        break;
      }
      if (error_done && stdout_done && stderr_done) {
        ended = true;
        break;
      }
    }
    if (ended) break;
    const size_t n = co_await s.kubelet.ReadSome(buf.get(), kChunk);
    if (n == 0) break;
    reader.Append(std::string_view(buf.get(), n));
  }
  s.kubelet.Close();
  co_await s.client.Close();
}

asio::awaitable<void> TunnelUp(WebSocket& client, ByteStream& kubelet) {
  for (;;) {
    auto msg = co_await client.Read();
    if (!msg) break;
    const std::string_view bytes(*msg);
    if (!bytes.empty() && !co_await kubelet.Write(bytes)) break;
  }
  kubelet.Close();
}

// A tunnel message's payload at most: one write of the client's connection (a whole 64 KiB
// payload left the last bytes of its frame to a TLS record and a send() of their own).
constexpr size_t kTunnelPayload = WebSocket::kMaxOneWriteMessage;

asio::awaitable<void> TunnelDown(WebSocket& client, ByteStream& kubelet, std::string early) {
  bool ok = true;
  if (!early.empty()) ok = co_await client.WriteBinary(early);
  // One buffer for the session: each read lands in it and leaves as one message.
  auto buf = std::make_unique<char[]>(kTunnelPayload);
  while (ok) {
    const size_t n = co_await kubelet.ReadSome(buf.get(), kTunnelPayload);
    if (n == 0) break;
    const std::string_view bytes(buf.get(), n);
    ok = co_await client.WriteBinary(bytes);
  }
  kubelet.Close();
  co_await client.Close();
}

}  // namespace

asio::awaitable<void> TranslateRemoteCommand(WebSocket& client, bool v5, ByteStream& kubelet, std::string early,
                                             RemoteCommandStreams streams) {
  Session s(client, v5, kubelet);
  // The streams in the order upstream's v4 client creates them.
  spdy::HeaderWriter headers;
  uint32_t next_id = 1;
  std::string opening;
  auto open = [&](const char* type) {
    const uint32_t id = next_id;
    next_id += 2;
    opening += spdy::SynStream(id, headers.Block({{"streamType", type}}));
    return id;
  };
  s.error_id = open("error");
  if (streams.in) s.stdin_id = open("stdin");
  if (streams.out) s.stdout_id = open("stdout");
  if (streams.err && !streams.tty) s.stderr_id = open("stderr");
  if (streams.tty) s.resize_id = open("resize");
  s.stdin_open = s.stdin_id != 0;
  if (!co_await s.writer.Write(std::move(opening))) {
    kubelet.Close();
    co_await client.Close();
    co_return;
  }
  using namespace asio::experimental::awaitable_operators;
  co_await (ClientToKubelet(s) && KubeletToClient(s, std::move(early)));
}

asio::awaitable<void> TunnelPortForward(WebSocket& client, ByteStream& kubelet, std::string early) {
  using namespace asio::experimental::awaitable_operators;
  co_await (TunnelUp(client, kubelet) && TunnelDown(client, kubelet, std::move(early)));
}

}  // namespace kite::apiserver
