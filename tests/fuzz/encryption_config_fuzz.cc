// The EncryptionConfiguration decoder (server/apiserver/encryption/encryption_config.h) on any
// text (YAML or JSON): decoding never crashes; a config that decodes builds a transformer, is
// written out and read back the same, and round-trips a value through encryption; decrypting
// the input itself as a stored value (any bytes, any prefix) fails cleanly or gives bytes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/apiserver/encryption/encryption_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace enc = kite::apiserver::encryption;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = enc::ParseEncryptionConfig(text);
  if (!config.ok()) return 0;
  auto again = enc::ParseEncryptionConfig(enc::SerializeEncryptionConfig(*config));
  if (!again.ok() || enc::SerializeEncryptionConfig(*again) != enc::SerializeEncryptionConfig(*config)) std::abort();
  auto t = enc::Transformer::Create(*config);
  if (!t.ok()) std::abort();
  const std::string key = "/registry/secrets/default/fuzz";
  auto sealed = (*t)->Encrypt(key, "{\"data\":{}}");
  if (!sealed.ok()) std::abort();
  auto plain = (*t)->Decrypt(key, *sealed);
  if (!plain.ok() || *plain != "{\"data\":{}}") std::abort();
  (void)(*t)->Decrypt(key, text);
  (void)(*t)->IsCurrent(key, text);
  return 0;
}
