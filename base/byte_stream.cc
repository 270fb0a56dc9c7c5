#include "base/byte_stream.h"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <memory>

namespace kite {
namespace asio = boost::asio;

namespace {

asio::awaitable<void> Pump(ByteStream& from, ByteStream& to) {
  // 64 KiB: a port-forward's bulk transfer moves in few writes; an interactive session's
  // keystrokes are a few bytes each and leave at once (ReadSome returns what has arrived).
  auto buf = std::make_unique<char[]>(64 * 1024);
  for (;;) {
    const size_t n = co_await from.ReadSome(buf.get(), 64 * 1024);
    if (n == 0) break;
    const std::string_view chunk(buf.get(), n);
    if (!co_await to.Write(chunk)) break;
  }
  // Either side ending ends the session: the other direction's pending read returns.
  from.Close();
  to.Close();
}

}  // namespace

asio::awaitable<void> Relay(ByteStream& a, ByteStream& b) {
  using namespace asio::experimental::awaitable_operators;
  co_await (Pump(a, b) && Pump(b, a));
}

}  // namespace kite
