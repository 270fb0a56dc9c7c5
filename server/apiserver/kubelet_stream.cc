// KubeletClient::ProxyUpgrade: the API server's hop of exec, attach and port-forward sessions.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include "base/https_client.h"
#include "base/upgrade_proxy.h"
#include "server/apiserver/kubelet_client.h"

namespace kite::apiserver {
namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// A TLS connection to a kubelet as bytes; owns its stream.
class KubeletConnection final : public ByteStream {
 public:
  KubeletConnection(asio::any_io_executor ex, asio::ssl::context& tls) : s_(ex, tls), bytes_(s_) {}
  TlsStream& tls() { return s_; }
  asio::awaitable<size_t> ReadSome(char* data, size_t size) override { return bytes_.ReadSome(data, size); }
  asio::awaitable<bool> Write(std::string_view data) override { return bytes_.Write(data); }
  void Close() override { bytes_.Close(); }

 private:
  TlsStream s_;
  StreamOf<TlsStream> bytes_;
};

}  // namespace

asio::awaitable<Result<KubeletClient::Upgraded>> KubeletClient::OpenUpgrade(const KubeletEndpoint& ep,
                                                                            const std::string& target,
                                                                            const HttpsRequest& req) {
  const std::string hostport = ep.host + ":" + std::to_string(ep.port);
  const std::string url = "https://" + hostport + target;
  auto failed = [&](const std::string& what) {
    return Status::Api(500, "InternalError", "error dialing backend: " + what + " (" + url + ")");
  };
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(ep.host, ec);
  if (ec) co_return failed("not an IP address: " + ep.host);
  auto executor = co_await asio::this_coro::executor;
  auto conn = std::make_unique<KubeletConnection>(executor, *tls_);
  TlsStream& s = conn->tls();
  PrepareTlsStream(s, ep.host);
  auto& tcp = beast::get_lowest_layer(s);
  tcp.expires_after(std::chrono::seconds(30));
  const asio::ip::tcp::endpoint endpoint(addr, static_cast<unsigned short>(ep.port));
  auto [cec] = co_await tcp.async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
  if (cec) co_return failed("dial tcp " + hostport + ": " + cec.message());
  tcp.socket().set_option(asio::ip::tcp::no_delay(true), ec);
  auto [hec] = co_await s.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
  if (hec) co_return failed("tls: " + hec.message());
  auto answer = co_await ForwardUpgradeRequest(*conn, hostport, target, req);
  if (!answer.ok()) {
    conn->Close();
    co_return failed(answer.status().message());
  }
  tcp.expires_never();  // from here the session lasts as long as its ends keep it
  if (answer->status != 101) conn->Close();
  Upgraded out;
  out.stream = std::move(conn);
  out.answer = std::move(*answer);
  co_return std::move(out);
}

asio::awaitable<Status> KubeletClient::ProxyUpgrade(const KubeletEndpoint& ep, const std::string& target,
                                                    const HttpsRequest& req, HttpsResponder& res) {
  auto up = co_await OpenUpgrade(ep, target, req);
  if (!up.ok()) co_return up.status();
  co_await CompleteUpgrade(up->answer, *up->stream, res);
  co_return Status::Ok();
}

}  // namespace kite::apiserver
