// Every bearer token a client sends reaches the service-account token parser
// (server/serviceaccount/jwt.h, tokens.h) before anything is known about it: untrusted input.
// Parsing and verifying never crash; base64url decoding is canonical (what decodes encodes back
// to the same text); claims that parse, signed again with our key, verify; and nothing the
// fuzzer writes verifies against the key it never saw, unless it is a token that key signed.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/serviceaccount/jwt.h"
#include "server/serviceaccount/tokens.h"

namespace sa = kite::serviceaccount;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const sa::jwt::Key key = *sa::jwt::Key::GenerateEs256();
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  if (auto raw = sa::jwt::Base64UrlDecode(in); raw && sa::jwt::Base64UrlEncode(*raw) != in) std::abort();

  auto parsed = sa::jwt::Parse(in);
  if (!parsed.ok()) {
    if (parsed.status().code() != kite::Code::kUnauthenticated) std::abort();
    return 0;
  }
  if (in.size() > sa::jwt::kMaxTokenSize) std::abort();
  // The key was made in this process: no input can carry a signature it made.
  if (sa::jwt::Verify(*parsed, {key})) std::abort();
  auto claims = sa::Verify(in, {key}, 1700000000, sa::ApiAudiences());
  if (claims.ok()) std::abort();
  // What parsed, signed by us, verifies and parses to the same claims.
  auto resigned = sa::jwt::Sign(key, parsed->claims);
  if (!resigned.ok()) std::abort();
  auto again = sa::jwt::Parse(*resigned);
  if (resigned->size() <= sa::jwt::kMaxTokenSize) {
    if (!again.ok() || !sa::jwt::Verify(*again, {key}) || again->claims != parsed->claims) std::abort();
  }
  return 0;
}
