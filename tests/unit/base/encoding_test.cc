// base/encoding: Base64 decoding refuses bad padding rather than read before its input.
#include "base/encoding.h"

#include <gtest/gtest.h>

namespace kite {
namespace {

TEST(Base64, RejectsBadPaddingInsteadOfUnderflowing) {
  EXPECT_FALSE(Base64Decode("====").has_value());
  EXPECT_FALSE(Base64Decode("a===").has_value());
  EXPECT_EQ(Base64Decode("YQ==").value(), "a");
  EXPECT_EQ(Base64Decode("YWJj").value(), "abc");
}

}  // namespace
}  // namespace kite
