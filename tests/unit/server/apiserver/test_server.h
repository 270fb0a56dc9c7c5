// An API server in this process, on a fresh store in a private temporary directory, with an
// in-process client as system:masters: the fixture of unit tests of what runs on top of the
// API (the client library, the kubelet's managers). Destroying it stops the server and removes
// the directory; destroy the clients that use it first.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "client/client.h"
#include "server/apiserver/apiserver.h"
#include "tests/unit/datastore/test_util.h"

namespace kite::testing {

class InProcessApiServer {
 public:
  InProcessApiServer() : dir_(datastore::testing::TempDir()), store_(datastore::testing::Open(dir_ + "/db")) {}
  ~InProcessApiServer() {
    server_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Starts the server on a free loopback port (call with ASSERT_NO_FATAL_FAILURE). `join`: with
  // the join endpoints, the token in <dir>/token.
  // `tweak`: changes to the options before the start (a test's budgets, its authorization mode).
  void Start(bool join = false, const std::function<void(apiserver::ApiServerOptions&)>& tweak = {}) {
    apiserver::ApiServerOptions o;
    if (join) o.join_token_path = dir_ + "/token";
    o.bind_address = "127.0.0.1";
    o.port = 0;
    o.tls_dir = dir_ + "/tls";
    o.kubeconfig_path = "";
    if (tweak) tweak(o);
    auto s = apiserver::ApiServer::Start(o, store_.get());
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(s.value());
  }
  // The in-process transport as system:masters, and a client over it.
  auto AdminTransport() const { return server_->LocalTransport("test", {"system:masters"}); }
  std::unique_ptr<client::Client> AdminClient() const { return std::make_unique<client::Client>(AdminTransport()); }
  const std::string& dir() const { return dir_; }
  std::shared_ptr<client::Transport> LocalTransport(const std::string& user, std::vector<std::string> groups) const {
    return server_->LocalTransport(user, std::move(groups));
  }
  int port() const { return server_->port(); }
  // Stops the server (the store and directory stay until destruction).
  void Stop() { server_.reset(); }

 private:
  std::string dir_;
  std::unique_ptr<datastore::Store> store_;
  std::unique_ptr<apiserver::ApiServer> server_;
};

}  // namespace kite::testing
