// SPDY/3.1 framing: frames written are read back whole whatever the cuts of the byte stream,
// and the header blocks are one zlib stream that a real inflater (zlib) reads block by block.
#include "base/spdy.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

namespace kite::spdy {
namespace {

std::vector<Frame> ReadAll(const std::string& bytes, size_t cut) {
  FrameReader r;
  std::vector<Frame> out;
  for (size_t at = 0; at < bytes.size(); at += cut) {
    r.Append(std::string_view(bytes).substr(at, cut));
    for (;;) {
      auto f = r.Next();
      EXPECT_TRUE(f.ok());
      if (!f.ok() || !f->has_value()) break;
      out.push_back(std::move(**f));
    }
  }
  return out;
}

TEST(Spdy, FramesRoundTripAcrossAnyCut) {
  HeaderWriter h;
  std::string wire = SynStream(1, h.Block({{"streamType", "error"}}));
  wire += SynStream(3, h.Block({{"streamType", "stdin"}}));
  wire += Data(3, "echo ok\n");
  wire += Data(3, "", kFlagFin);
  wire += Ping(7);
  wire += Data(5, std::string(100000, 'x'));
  for (size_t cut : {size_t{1}, size_t{7}, size_t{4096}, wire.size()}) {
    auto frames = ReadAll(wire, cut);
    ASSERT_EQ(frames.size(), 6u) << "cut " << cut;
    EXPECT_TRUE(frames[0].control);
    EXPECT_EQ(frames[0].type, kSynStream);
    EXPECT_EQ(frames[0].stream_id, 1u);
    EXPECT_EQ(frames[1].stream_id, 3u);
    EXPECT_FALSE(frames[2].control);
    EXPECT_EQ(frames[2].stream_id, 3u);
    EXPECT_EQ(frames[2].payload, "echo ok\n");
    EXPECT_EQ(frames[3].flags, kFlagFin);
    EXPECT_TRUE(frames[3].payload.empty());
    EXPECT_EQ(frames[4].type, kPing);
    EXPECT_EQ(frames[4].stream_id, 7u);
    EXPECT_EQ(frames[5].payload.size(), 100000u);
  }
}

TEST(Spdy, RefusesAnotherVersion) {
  std::string frame = Ping(1);
  frame[1] = 2;  // SPDY/2
  FrameReader r;
  r.Append(frame);
  EXPECT_FALSE(r.Next().ok());
}

// What a header block holds once inflated: count, then length-prefixed names and values.
std::string Plain(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out;
  auto put = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((v >> s) & 0xff));
  };
  put(static_cast<uint32_t>(headers.size()));
  for (const auto& [k, v] : headers) {
    put(static_cast<uint32_t>(k.size()));
    out += k;
    put(static_cast<uint32_t>(v.size()));
    out += v;
  }
  return out;
}

TEST(Spdy, HeaderBlocksAreOneZlibStream) {
  HeaderWriter h;
  z_stream z{};
  ASSERT_EQ(inflateInit(&z), Z_OK);
  auto inflate_block = [&](const std::string& block) {
    std::string in = block;
    std::string out(4096, '\0');
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&z, Z_SYNC_FLUSH);
    EXPECT_TRUE(rc == Z_OK || rc == Z_BUF_ERROR) << rc;
    EXPECT_EQ(z.avail_in, 0u);  // the whole block consumed
    out.resize(out.size() - z.avail_out);
    return out;
  };
  EXPECT_EQ(inflate_block(h.Block({{"streamType", "error"}})), Plain({{"streamtype", "error"}}));
  EXPECT_EQ(inflate_block(h.Block({{"StreamType", "data"}, {"port", "80"}, {"requestID", "0"}})),
            Plain({{"streamtype", "data"}, {"port", "80"}, {"requestid", "0"}}));
  inflateEnd(&z);
}

}  // namespace
}  // namespace kite::spdy
