// Fuzzes the API server's parsing of untrusted request parts: percent-decoding, URL → request
// attributes, discovery content negotiation, bearer-token authentication and name validation.
// Invariants checked: nothing crashes; a resource request always names a resource; a verb is
// always one of the known ones for resource requests.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include "base/https_server.h"
#include "api/validation.h"
#include "server/apiserver/filters/authn.h"
#include "server/apiserver/discovery/discovery.h"
#include "server/apiserver/handlers/handlers.h"
#include "server/apiserver/storage/list_options.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/filters/request_info.h"

using namespace kite;
using namespace kite::apiserver;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Authenticator* authn = [] {
    std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/kite-fuzz-tokens.csv";
    std::ofstream(path) << "tok,alice,1,\"a,b\"\n";
    return new Authenticator(std::move(Authenticator::Create(path).value()));
  }();
  static const std::set<std::string> kVerbs = {"get", "list", "watch", "create", "update", "patch", "delete",
                                               "deletecollection"};
  FuzzedDataProvider in(data, size);
  static const char* kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
  std::string method = kMethods[in.ConsumeIntegralInRange<int>(0, 6)];
  std::string path = PercentDecode(in.ConsumeRandomLengthString(512));
  bool watch = in.ConsumeBool();
  RequestInfo info = ParseRequestInfo(method, path, watch);
  if (info.resource_request) {
    if (!kVerbs.count(info.verb) && method != "OPTIONS") std::abort();
  }
  NegotiateDiscovery(in.ConsumeRandomLengthString(256));
  HttpsRequest req;
  req.headers["authorization"] = in.ConsumeRandomLengthString(128);
  (void)authn->Authenticate(req);
  std::string name = in.ConsumeRandomLengthString(300);
  (void)kite::api::IsDNS1123Subdomain(name);
  (void)kite::api::IsDNS1123Label(name);
  // List options from the query string (selectors, limit, the continue token) and a body.
  static const auto* pods = kite::api::FindResource("", "v1", "pods");
  HttpsRequest list;
  for (const char* q : {"labelSelector", "fieldSelector", "continue", "limit", "resourceVersionMatch", "timeoutSeconds"}) {
    if (in.ConsumeBool()) list.query.emplace(q, in.ConsumeRandomLengthString(128));
  }
  (void)ParseListOptions(list, *pods);
  HttpsRequest body;
  static const char* kTypes[] = {"application/json", "application/yaml", "application/vnd.kubernetes.protobuf", ""};
  body.headers["content-type"] = kTypes[in.ConsumeIntegralInRange<int>(0, 3)];
  body.body = in.ConsumeRandomLengthString(1024);
  (void)DecodeBody(body, *pods);
  static const auto set = kite::api::ResourceSet::With({});
  if (auto doc = LegacyApiResourceList(*set, in.ConsumeRandomLengthString(32), in.ConsumeRemainingBytesAsString()); doc) {
    if (doc->empty()) std::abort();
  }
  return 0;
}
