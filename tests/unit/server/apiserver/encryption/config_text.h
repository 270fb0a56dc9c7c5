// Helpers of the encryption tests: an EncryptionConfiguration's text around a providers list,
// and the Transformer it makes.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "server/apiserver/encryption/encryption_config.h"

namespace kite::apiserver::encryption::testing {

// An EncryptionConfiguration (JSON) with one resources entry: `resources` and `providers`
// (JSON arrays).
inline std::string Config(const std::string& providers, const std::string& resources = R"(["secrets"])") {
  return R"({"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{"resources":)" +
         resources + R"(,"providers":)" + providers + "}]}";
}

// The Transformer of configuration `text`, which must parse.
inline std::shared_ptr<const Transformer> Make(const std::string& text) {
  auto c = ParseEncryptionConfig(text);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return *Transformer::Create(*c);
}

}  // namespace kite::apiserver::encryption::testing
