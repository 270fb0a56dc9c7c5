#include "client/in_cluster.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/log.h"

namespace kite::client {
namespace {

Result<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(Code::kNotFound, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Result<Kubeconfig> InClusterConfig(const std::string& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !port || !*host || !*port) {
    return Status(Code::kInvalidArgument, "no --kubeconfig and not in a pod (KUBERNETES_SERVICE_HOST/PORT unset)");
  }
  auto ca = ReadWhole(sa_dir + "/ca.crt");
  if (!ca.ok()) return ca.status();
  Kubeconfig kc;
  const std::string h = host;
  const std::string url = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  if (auto s = SetServer(url, &kc); !s.ok()) return s;
  kc.ca_pem = std::move(ca.value());
  return kc;
}

Result<std::shared_ptr<Transport>> MakeAddonTransport(const std::string& kubeconfig_path,
                                                     const RestTransportOptions& options) {
  if (!kubeconfig_path.empty()) return MakeRestTransport(kubeconfig_path, options);
  auto kc = InClusterConfig();
  if (!kc.ok()) return kc.status();
  // The projected token rotates: read from its file again as the kubelet renews it.
  auto make = [kc = *kc, options](const std::string& token) {
    Kubeconfig with = kc;
    with.token = token;
    return MakeRestTransport(with, options);
  };
  auto tf = TokenFileTransport::Create(std::string(kServiceAccountDir) + "/token", make);
  if (!tf.ok()) return tf.status();
  return std::shared_ptr<Transport>(std::move(tf.value()));
}

Result<std::shared_ptr<TokenFileTransport>> TokenFileTransport::Create(std::string token_path, Factory make,
                                                                       std::chrono::steady_clock::duration reread) {
  std::shared_ptr<TokenFileTransport> t(new TokenFileTransport(std::move(token_path), std::move(make), reread));
  std::lock_guard<std::mutex> lock(t->mu_);
  if (auto s = t->Reload(); !s.ok()) return s;
  t->rotations_ = 0;
  return t;
}

Status TokenFileTransport::Reload() {
  next_read_ = std::chrono::steady_clock::now() + reread_;
  auto text = ReadWhole(path_);
  if (!text.ok()) return text.status();
  std::string token = std::move(text.value());
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) return Status(Code::kInvalidArgument, path_ + " holds no token");
  if (token == token_ && current_) return Status::Ok();
  auto t = make_(token);
  if (!t.ok()) return t.status();
  token_ = std::move(token);
  current_ = std::move(t.value());
  ++rotations_;
  return Status::Ok();
}

std::shared_ptr<client::Transport> TokenFileTransport::Current(bool force) {
  std::lock_guard<std::mutex> lock(mu_);
  if (force || std::chrono::steady_clock::now() >= next_read_) {
    const int64_t before = rotations_;
    // A failed read keeps the token we have: it may still be valid, and the next read retries.
    if (auto s = Reload(); !s.ok()) {
      KITE_LOG(0) << "kite-dns: service-account token: " << s.message();
    } else if (rotations_ != before) {
      KITE_LOG(1) << "kite-dns: read a new service-account token from " << path_;
    }
  }
  return current_;
}

client::Response TokenFileTransport::Do(const client::Request& request) {
  std::shared_ptr<client::Transport> t = Current(false);
  client::Response r = t->Do(request);
  if (r.code != 401) return r;
  // Expired or revoked: the kubelet may have written a new one since the last read.
  std::shared_ptr<client::Transport> fresh = Current(true);
  if (fresh == t) return r;
  return fresh->Do(request);
}

std::unique_ptr<client::WatchStream> TokenFileTransport::Watch(const client::Request& request,
                                                               std::function<void(std::string_view line)> on_line,
                                                               std::function<void(client::Response end)> on_end) {
  return Current(false)->Watch(request, std::move(on_line), std::move(on_end));
}

int64_t TokenFileTransport::rotations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rotations_;
}

}  // namespace kite::client
