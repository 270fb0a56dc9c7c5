// What the client tests that run against a real in-process API server share: the fixture that
// starts one per test and an admin client on it, and the ConfigMaps they create.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "client/client.h"
#include "tests/unit/server/apiserver/test_server.h"

namespace kite::client::testing_fixture {

inline const api::ResourceInfo& ConfigMapsResource() { return *api::FindResource("", "v1", "configmaps"); }

// A ConfigMap labelled app=x holding k=value.
inline boost::json::object TestConfigMap(const std::string& name, const std::string& value) {
  namespace json = boost::json;
  return json::object{{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata", json::object{{"name", name}, {"labels", json::object{{"app", "x"}}}}},
                      {"data", json::object{{"k", value}}}};
}

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_ = std::make_unique<kite::testing::InProcessApiServer>();
    ASSERT_NO_FATAL_FAILURE(api_->Start());
    client_ = api_->AdminClient();
  }
  void TearDown() override {
    client_.reset();
    api_.reset();
  }
  std::unique_ptr<kite::testing::InProcessApiServer> api_;
  std::unique_ptr<Client> client_;
};

}  // namespace kite::client::testing_fixture
