#include "base/client_watch.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace kite {
namespace asio = boost::asio;

struct ClientWatch::State {
  State(asio::any_io_executor ex, HttpsResponder& r, std::function<void()> g, std::chrono::milliseconds p)
      : timer(ex), res(&r), on_gone(std::move(g)), period(p) {}
  asio::steady_timer timer;
  HttpsResponder* res;  // null once stopped
  std::function<void()> on_gone;
  std::chrono::milliseconds period;
};

namespace {

asio::awaitable<void> Watch(std::shared_ptr<ClientWatch::State> st) {
  while (st->res) {
    st->timer.expires_after(st->period);
    boost::system::error_code ec;
    co_await st->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!st->res) co_return;
    if (ClientGone(*st->res)) {
      st->res = nullptr;
      st->on_gone();
      co_return;
    }
  }
}

}  // namespace

ClientWatch::ClientWatch(asio::any_io_executor executor, HttpsResponder& res, std::function<void()> on_gone,
                         std::chrono::milliseconds period)
    : state_(std::make_shared<State>(executor, res, std::move(on_gone), period)) {
  asio::co_spawn(executor, Watch(state_), asio::detached);
}

ClientWatch::~ClientWatch() {
  state_->res = nullptr;
  state_->timer.cancel();
}

}  // namespace kite
