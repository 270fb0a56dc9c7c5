#include "base/https_client.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/http.hpp>
#include <sys/socket.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "base/encoding.h"
#include "base/tls_verify.h"

namespace kite {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// The entry of `list` (contexts, clusters, users) called `name`, or the first when `name` is
// empty; its `field` member (context, cluster, user).
YAML::Node Named(const YAML::Node& list, const std::string& name, const char* field) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& entry : list) {
    if (name.empty() || (entry["name"] && entry["name"].as<std::string>() == name)) return entry[field];
  }
  return YAML::Node();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status(Code::kNotFound, "cannot read " + path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// `<field>-data` (base64) or `<field>` (a file, relative to the kubeconfig's folder) of `node`
// into *out; neither present leaves *out empty.
Status ReadPem(const YAML::Node& node, const std::string& field, const std::filesystem::path& dir, std::string* out) {
  if (const YAML::Node data = node[field + "-data"]; data) {
    auto decoded = Base64Decode(data.as<std::string>());
    if (!decoded) return Status(Code::kInvalidArgument, "bad base64 in " + field + "-data");
    *out = std::move(*decoded);
    return Status::Ok();
  }
  if (const YAML::Node file = node[field]; file) {
    auto text = ReadFile((dir / file.as<std::string>()).string());
    if (!text.ok()) return Status(text.status().code(), field + ": " + text.status().message());
    *out = std::move(text.value());
  }
  return Status::Ok();
}

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(s.find_last_not_of(ws) + 1);
  s.erase(0, s.find_first_not_of(ws));
  return s;
}

std::string HostHeader(const std::string& host, const std::string& port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
}

}  // namespace

Status SetServer(const std::string& url, Kubeconfig* kc) {
  kc->server = url;
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0) return Status(Code::kInvalidArgument, "server is not https: " + url);
  std::string hostport = url.substr(scheme.size());
  if (auto slash = hostport.find('/'); slash != std::string::npos) hostport.resize(slash);
  if (!hostport.empty() && hostport[0] == '[') {  // [v6]:port
    auto close = hostport.find(']');
    if (close == std::string::npos) return Status(Code::kInvalidArgument, "bad server address: " + url);
    kc->host = hostport.substr(1, close - 1);
    kc->port = close + 2 <= hostport.size() ? hostport.substr(close + 2) : "443";
  } else {
    auto colon = hostport.rfind(':');
    kc->host = hostport.substr(0, colon);
    kc->port = colon == std::string::npos ? "443" : hostport.substr(colon + 1);
  }
  if (kc->host.empty() || kc->port.empty()) return Status(Code::kInvalidArgument, "bad server address: " + url);
  return Status::Ok();
}

Result<Kubeconfig> LoadKubeconfig(const std::string& path) {
  Kubeconfig kc;
  try {
    const YAML::Node root = YAML::LoadFile(path);
    const std::string current = root["current-context"] ? root["current-context"].as<std::string>() : "";
    const YAML::Node context = Named(root["contexts"], current, "context");
    std::string cluster_name, user_name;
    if (context && context["cluster"]) cluster_name = context["cluster"].as<std::string>();
    if (context && context["user"]) user_name = context["user"].as<std::string>();
    const YAML::Node cluster = Named(root["clusters"], cluster_name, "cluster");
    if (!cluster || !cluster["server"]) return Status(Code::kInvalidArgument, "no cluster with a server in " + path);
    const YAML::Node user = Named(root["users"], user_name, "user");
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();

    if (Status st = SetServer(cluster["server"].as<std::string>(), &kc); !st.ok()) return st;
    if (cluster["insecure-skip-tls-verify"]) kc.insecure_skip_tls_verify = cluster["insecure-skip-tls-verify"].as<bool>();
    if (Status s = ReadPem(cluster, "certificate-authority", dir, &kc.ca_pem); !s.ok()) return s;
    if (user) {
      if (Status s = ReadPem(user, "client-certificate", dir, &kc.cert_pem); !s.ok()) return s;
      if (Status s = ReadPem(user, "client-key", dir, &kc.key_pem); !s.ok()) return s;
      if (kc.cert_pem.empty() != kc.key_pem.empty()) {
        return Status(Code::kInvalidArgument, "a client certificate needs its key and the other way round");
      }
      if (user["token"]) {
        kc.token = user["token"].as<std::string>();
      } else if (user["tokenFile"]) {
        auto text = ReadFile((dir / user["tokenFile"].as<std::string>()).string());
        if (!text.ok()) return Status(text.status().code(), "tokenFile: " + text.status().message());
        kc.token = Trim(std::move(text.value()));
      }
    }
  } catch (const std::exception& e) {  // yaml-cpp reports unreadable files and bad YAML by throwing
    return Status(Code::kInvalidArgument, path + ": " + e.what());
  }
  return kc;
}

Result<std::shared_ptr<ssl::context>> MakeTlsContext(const Kubeconfig& kc, const Clock* clock) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  if (kc.insecure_skip_tls_verify) {
    ctx->set_verify_mode(ssl::verify_none, ec);
  } else {
    if (kc.ca_pem.empty()) {
      // The system's bundle file, not OpenSSL's hashed directory (32-bit stat on armhf).
      if (Status s = LoadSystemTrustAnchors(ctx->native_handle()); !s.ok()) return s;
    } else {
      ctx->add_certificate_authority(asio::buffer(kc.ca_pem), ec);
    }
    if (ec) return Status(Code::kInvalidArgument, "certificate authority: " + ec.message());
    ctx->set_verify_mode(ssl::verify_peer, ec);
    UseClockForCertificateTimes(ctx->native_handle(), clock);  // not OpenSSL's 32-bit time() on armhf
  }
  if (!ec && !kc.cert_pem.empty()) {
    ctx->use_certificate_chain(asio::buffer(kc.cert_pem), ec);
    if (ec) return Status(Code::kInvalidArgument, "client certificate: " + ec.message());
    ctx->use_private_key(asio::buffer(kc.key_pem), ssl::context::pem, ec);
    if (ec) return Status(Code::kInvalidArgument, "client key: " + ec.message());
  }
  if (ec) return Status(Code::kInvalidArgument, "TLS context: " + ec.message());
  return ctx;
}

Result<tcp::endpoint> ResolveServer(const Kubeconfig& kc) {
  asio::io_context io;
  tcp::resolver r(io);
  boost::system::error_code ec;
  auto results = r.resolve(kc.host, kc.port, ec);
  if (ec || results.empty()) {
    return Status(Code::kUnavailable, "resolve " + kc.host + ":" + kc.port + ": " + (ec ? ec.message() : "no address"));
  }
  return results.begin()->endpoint();
}

void PrepareTlsStream(TlsStream& s, const std::string& host) {
  s.set_verify_callback(ssl::host_name_verification(host));
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) SSL_set_tlsext_host_name(s.native_handle(), host.c_str());  // SNI only for names
}

// ---------------------------------------------------------------------------------------------

HttpsConnection::HttpsConnection(const Kubeconfig& kc, std::shared_ptr<ssl::context> tls, std::string user_agent,
                                 std::chrono::milliseconds connect_timeout)
    : host_(kc.host),
      port_(kc.port),
      token_(kc.token),
      user_agent_(std::move(user_agent)),
      connect_timeout_(connect_timeout),
      tls_(std::move(tls)) {}

HttpsConnection::~HttpsConnection() { Close(); }

void HttpsConnection::Close() {
  if (!stream_) return;
  {
    // Cancel must never shut down a descriptor number the kernel has handed out again.
    std::lock_guard<std::mutex> lock(fd_mu_);
    fd_ = -1;
  }
  boost::system::error_code ec;
  auto& sock = beast::get_lowest_layer(*stream_).socket();
  sock.shutdown(tcp::socket::shutdown_both, ec);
  sock.close(ec);
  // Handlers of operations aborted by the close must not outlive the stream they point into.
  io_.restart();
  io_.poll();
  stream_.reset();
  buf_.clear();
}

void HttpsConnection::Cancel() {
  std::lock_guard<std::mutex> lock(fd_mu_);
  cancelled_ = true;
  // shutdown(2), not close(2): the owning thread may be blocked on the descriptor, and only it
  // may close (and so free the number for reuse).
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

bool HttpsConnection::cancelled() const {
  std::lock_guard<std::mutex> lock(fd_mu_);
  return cancelled_;
}

bool HttpsConnection::RunUntil(const bool& done, std::chrono::steady_clock::time_point deadline) {
  // Connecting runs asynchronously so that it can be bounded in time and abandoned on Cancel;
  // polling every 50 ms for either keeps this free of cross-thread socket access.
  io_.restart();
  bool expired = false;
  while (!done) {
    if (!expired && (std::chrono::steady_clock::now() >= deadline || cancelled())) {
      expired = true;
      std::lock_guard<std::mutex> lock(fd_mu_);
      fd_ = -1;
      boost::system::error_code ec;
      beast::get_lowest_layer(*stream_).socket().close(ec);  // the operation completes, aborted
    }
    io_.run_one_for(std::chrono::milliseconds(50));
  }
  return !expired;
}

bool HttpsConnection::Connect(std::string* error) {
  Close();
  const std::string where = host_ + ":" + port_;
  if (cancelled()) {
    *error = "connect " + where + ": cancelled";
    return false;
  }
  Kubeconfig target;
  target.host = host_;
  target.port = port_;
  auto ep = ResolveServer(target);
  if (!ep.ok()) {
    *error = ep.status().message();
    return false;
  }
  stream_ = std::make_unique<TlsStream>(io_, *tls_);
  PrepareTlsStream(*stream_, host_);
  auto& sock = beast::get_lowest_layer(*stream_).socket();
  boost::system::error_code ec;
  sock.open(ep->protocol(), ec);
  if (!ec) {
    std::lock_guard<std::mutex> lock(fd_mu_);
    if (cancelled_) ec = asio::error::operation_aborted;
    else fd_ = sock.native_handle();
  }
  const auto deadline = std::chrono::steady_clock::now() + connect_timeout_;
  bool done = false;
  if (!ec) {
    sock.async_connect(*ep, [&](boost::system::error_code e) {
      ec = e;
      done = true;
    });
    if (!RunUntil(done, deadline)) ec = asio::error::timed_out;
  }
  if (!ec) sock.set_option(tcp::no_delay(true), ec);
  if (!ec) {
    done = false;
    stream_->async_handshake(ssl::stream_base::client, [&](boost::system::error_code e) {
      ec = e;
      done = true;
    });
    if (!RunUntil(done, deadline)) ec = asio::error::timed_out;
  }
  if (ec) {
    *error = "connect " + where + ": " + (cancelled() ? std::string("cancelled") : ec.message());
    Close();
    return false;
  }
  ++connects_;
  return true;
}

namespace {

http::request<http::string_body> MakeRequest(http::verb verb, const std::string& target, const std::string& host,
                                             const std::string& user_agent, const std::string& token,
                                             const HttpsConnection::Headers& headers) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, host);
  req.set(http::field::user_agent, user_agent);
  req.set(http::field::accept, "application/json");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  for (const auto& [name, value] : headers) req.set(name, value);
  return req;
}

}  // namespace

HttpsReply HttpsConnection::Do(http::verb verb, const std::string& target, const std::string& body,
                               std::string_view content_type, const Headers& headers) {
  HttpsReply out;
  if (!stream_ && !Connect(&out.error)) {
    out.nothing_received = true;
    return out;
  }
  auto req = MakeRequest(verb, target, HostHeader(host_, port_), user_agent_, token_, headers);
  if (!body.empty()) {
    req.set(http::field::content_type, content_type);
    req.body() = body;
  }
  req.prepare_payload();
  boost::system::error_code ec;
  http::write(*stream_, req, ec);
  out.nothing_received = true;
  if (!ec) {
    http::response_parser<http::string_body> p;
    p.body_limit(boost::none);
    http::read(*stream_, buf_, p, ec);
    if (!ec) {
      out.status = static_cast<int>(p.get().result_int());
      out.body = std::move(p.get().body());
      out.nothing_received = false;
      if (!p.get().keep_alive()) Close();
      return out;
    }
    out.nothing_received = !p.got_some();
  }
  out.error = std::string(http::to_string(verb)) + " " + target + ": " +
              (cancelled() ? std::string("cancelled") : ec.message());
  Close();
  return out;
}

HttpsReply HttpsConnection::Stream(http::verb verb, const std::string& target,
                                   const std::function<bool(std::string_view)>& on_data, const Headers& headers) {
  HttpsReply out;
  if (!stream_ && !Connect(&out.error)) {
    out.nothing_received = true;
    return out;
  }
  auto req = MakeRequest(verb, target, HostHeader(host_, port_), user_agent_, token_, headers);
  req.prepare_payload();
  boost::system::error_code ec;
  http::write(*stream_, req, ec);
  out.nothing_received = true;
  if (!ec) {
    // buffer_body hands over the body as it is parsed, whatever its framing (chunked for
    // watches), without holding more than one read's worth.
    http::response_parser<http::buffer_body> p;
    p.body_limit(boost::none);
    http::read_header(*stream_, buf_, p, ec);
    out.nothing_received = !p.got_some();
    if (!ec) {
      out.status = static_cast<int>(p.get().result_int());
      const bool streaming = out.status >= 200 && out.status < 300;
      constexpr size_t kMaxErrorBody = 1 << 20;
      char chunk[16384];
      while (!p.is_done()) {
        p.get().body().data = chunk;
        p.get().body().size = sizeof chunk;
        http::read_some(*stream_, buf_, p, ec);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) break;
        const size_t n = sizeof chunk - p.get().body().size;
        if (n == 0) continue;
        if (streaming) {
          if (!on_data(std::string_view(chunk, n))) break;
        } else if (out.body.size() < kMaxErrorBody) {
          out.body.append(chunk, n);
        }
      }
      // An error status keeps what arrived of its body; a broken stream is a transport failure.
      if (ec && streaming) out.status = 0;
    }
  }
  if (ec && out.status == 0) {
    out.error = std::string(http::to_string(verb)) + " " + target + ": " +
                (cancelled() ? std::string("cancelled") : ec.message());
  }
  Close();
  return out;
}

}  // namespace kite
