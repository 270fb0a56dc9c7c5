#include "base/upgrade_proxy.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>

namespace kite {
namespace asio = boost::asio;

namespace {

constexpr size_t kMaxHeader = 64 * 1024;
constexpr size_t kMaxBody = 1024 * 1024;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::string UpgradeAnswer::Header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers) {
    if (Lower(k) == lower_name) return v;
  }
  return "";
}

Result<UpgradeAnswer> ParseResponseHeader(std::string_view text) {
  UpgradeAnswer a;
  size_t eol = text.find("\r\n");
  if (eol == std::string_view::npos) return Status(Code::kInvalidArgument, "no status line");
  const std::string_view line = text.substr(0, eol);
  // "HTTP/1.1 101 Switching Protocols"
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || line.find(' ') == std::string_view::npos) {
    return Status(Code::kInvalidArgument, "malformed status line");
  }
  const size_t sp = line.find(' ');
  const std::string_view code = line.substr(sp + 1, 3);
  if (code.size() != 3 || !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status(Code::kInvalidArgument, "malformed status code");
  }
  a.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  size_t at = eol + 2;
  while (at < text.size()) {
    eol = text.find("\r\n", at);
    if (eol == std::string_view::npos) return Status(Code::kInvalidArgument, "unterminated header");
    if (eol == at) break;  // the blank line
    const std::string_view field = text.substr(at, eol - at);
    const size_t colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0) return Status(Code::kInvalidArgument, "malformed header field");
    a.headers.emplace_back(Lower(std::string(field.substr(0, colon))), Trim(field.substr(colon + 1)));
    at = eol + 2;
  }
  return a;
}

asio::awaitable<Result<UpgradeAnswer>> ForwardUpgradeRequest(ByteStream& upstream, const std::string& host,
                                                             const std::string& target, const HttpsRequest& req) {
  std::string head = req.method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n";
  for (const auto& [name, value] : req.headers) {
    const bool relayed = name == "connection" || name == "upgrade" || name == "user-agent" ||
                         (name.rfind("sec-websocket-", 0) == 0 && name != "sec-websocket-extensions");
    if (relayed) {
      head += name + ": " + value + "\r\n";
    } else if (name == "x-stream-protocol-version") {
      // One field per protocol, as the client sent them (HttpsRequest joined them with commas).
      size_t i = 0;
      while (i <= value.size()) {
        size_t j = value.find(',', i);
        if (j == std::string::npos) j = value.size();
        const std::string p = Trim(std::string_view(value).substr(i, j - i));
        if (!p.empty()) head += "X-Stream-Protocol-Version: " + p + "\r\n";
        i = j + 1;
      }
    }
  }
  if (req.method != "GET") head += "Content-Length: 0\r\n";  // SPDY's POST: no body
  head += "\r\n";
  if (!co_await upstream.Write(head)) co_return Status(Code::kUnavailable, "connection closed while sending the request");
  std::string got;
  auto buf = std::make_unique<char[]>(16 * 1024);
  size_t end = std::string::npos;
  while ((end = got.find("\r\n\r\n")) == std::string::npos) {
    if (got.size() > kMaxHeader) co_return Status(Code::kInvalidArgument, "response header too large");
    const size_t n = co_await upstream.ReadSome(buf.get(), 16 * 1024);
    if (n == 0) co_return Status(Code::kUnavailable, "connection closed before a response");
    got.append(buf.get(), n);
  }
  auto parsed = ParseResponseHeader(std::string_view(got).substr(0, end + 4));
  if (!parsed.ok()) co_return parsed.status();
  UpgradeAnswer a = std::move(*parsed);
  a.data = got.substr(end + 4);
  if (a.status == 101) co_return std::move(a);
  // An error answer: its body, by Content-Length or to the end of the connection.
  const std::string length = a.Header("content-length");
  size_t want = kMaxBody;
  if (!length.empty()) want = std::min<size_t>(kMaxBody, std::strtoull(length.c_str(), nullptr, 10));
  while (a.data.size() < want) {
    const size_t n = co_await upstream.ReadSome(buf.get(), 16 * 1024);
    if (n == 0) break;
    a.data.append(buf.get(), n);
  }
  if (a.data.size() > want) a.data.resize(want);
  co_return std::move(a);
}

asio::awaitable<void> CompleteUpgrade(UpgradeAnswer& answer, ByteStream& upstream, HttpsResponder& res) {
  if (answer.status != 101) {
    upstream.Close();
    std::string type = answer.Header("content-type");
    if (type.empty()) type = "text/plain; charset=utf-8";
    co_await res.Send(answer.status, std::move(type), std::move(answer.data));
    co_return;
  }
  HttpsResponder::Headers headers;
  for (const auto& [k, v] : answer.headers) headers.emplace_back(k, v);
  auto client = co_await AcceptUpgrade(res, 101, std::move(headers));
  if (!client) {
    upstream.Close();
    co_return;
  }
  if (!answer.data.empty()) {
    const std::string_view early(answer.data);
    if (!co_await client->Write(early)) {
      upstream.Close();
      client->Close();
      co_return;
    }
  }
  co_await Relay(*client, upstream);
}

}  // namespace kite
