// Fuzzes the watch cache's splice of stored object text (server/apiserver/stored_json.h). The
// datastore's values are untrusted: anyone with the etcd endpoint can write any bytes under
// /registry/. Invariants: nothing crashes; whatever the scanner accepts, boost::json parses as an
// object; the spliced text is one line and decodes to the object with metadata.resourceVersion
// set; the labels text decodes to metadata.labels.
#include <boost/json.hpp>

#include <cstdlib>
#include <string>
#include <string_view>

#include "server/apiserver/storage/stored_json.h"

namespace json = boost::json;
using namespace kite::apiserver;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto scan = ScanStoredObject(text);
  if (!scan) return 0;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) std::abort();  // accepted what the decoder rejects
  json::object& obj = v.as_object();
  const json::value* meta = obj.if_contains("metadata");
  if (auto l = LabelsText(text, *scan); !l.empty()) {
    json::value labels = json::parse(l, ec);
    if (ec || !meta || !meta->is_object() || !meta->as_object().contains("labels")) std::abort();
    if (!(labels == meta->as_object().at("labels"))) std::abort();
  }
  auto out = WithResourceVersion(text, *scan, 42);
  if (!out) {
    if (meta && meta->is_object()) std::abort();  // there was a metadata object to splice into
    return 0;
  }
  if (out->find('\n') != std::string::npos) std::abort();
  json::value spliced = json::parse(*out, ec);
  if (ec) std::abort();
  obj["metadata"].as_object()["resourceVersion"] = "42";
  if (!(spliced == v)) std::abort();
  return 0;
}
