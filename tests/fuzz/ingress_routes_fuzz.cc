// Ingresses as kite-ingress turns them into routes (addons/ingress/routes.h), untrusted: every
// user who may write an Ingress reaches this. The input is an Ingress's spec (JSON; other bytes
// build one), then, after a NUL, requests to match ("host path" per line). In a small fixed
// cluster (the default class ours, three Services). Never a crash; a rule's backend is one of
// the Services' addresses or says why not; a TLS Secret is one of the Ingress's namespace; the
// table holds no more rules than the spec has paths.
#include <boost/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "addons/ingress/routes.h"

namespace {

namespace json = boost::json;
using kite::ingress::RouteTable;

std::shared_ptr<const json::object> Obj(const char* text) {
  return std::make_shared<const json::object>(json::parse(text).as_object());
}

// Random bytes are almost never a JSON object: each byte picks a host, path, type or backend
// from tables that include bad values.
json::object SpecFromBytes(std::string_view data) {
  static const char* const hosts[] = {"", "a.test", "*.test", "A.TEST.", "*", "a*b", "*.", "x.a.test"};
  static const char* const paths[] = {"/", "/a", "/a/", "/a/b", "", "a", "//", "/a/b/"};
  static const char* const types[] = {"Prefix", "Exact", "ImplementationSpecific", "", "prefix"};
  static const char* const services[] = {"web", "api", "headless", "nope", ""};
  size_t i = 0;
  auto next = [&]() -> unsigned { return i < data.size() ? static_cast<unsigned char>(data[i++]) : 0; };
  json::array rules;
  for (int r = 0; i < data.size() && r < 16; ++r) {
    json::array ps;
    for (unsigned n = next() % 5; n > 0; --n) {
      json::object port;
      const unsigned k = next();
      if (k & 1) port["number"] = static_cast<int64_t>(k % 3 == 0 ? 80 : k);
      if (k & 2) port["name"] = (k & 4) ? "http" : "x";
      ps.push_back(json::object{{"path", paths[next() % 8]},
                                {"pathType", types[next() % 5]},
                                {"backend", json::object{{"service", json::object{{"name", services[next() % 5]}, {"port", port}}}}}});
    }
    rules.push_back(json::object{{"host", hosts[next() % 8]}, {"http", json::object{{"paths", ps}}}});
  }
  json::object spec{{"rules", rules}};
  if (next() & 1) {
    spec["tls"] = json::array{json::object{{"hosts", json::array{hosts[next() % 8], hosts[next() % 8]}}, {"secretName", "s"}}};
  }
  if (next() & 1) spec["defaultBackend"] = json::object{{"service", json::object{{"name", "web"}, {"port", json::object{{"number", 80}}}}}};
  return spec;
}

size_t PathsIn(const json::object& spec) {
  size_t n = 0;
  if (const auto* rules = spec.if_contains("rules"); rules && rules->is_array()) {
    for (const auto& r : rules->as_array()) {
      if (!r.is_object()) continue;
      const auto* http = r.as_object().if_contains("http");
      if (!http || !http->is_object()) continue;
      const auto* paths = http->as_object().if_contains("paths");
      if (paths && paths->is_array()) n += paths->as_array().size();
    }
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  const std::string_view spec_text = in.substr(0, nul);
  const std::string_view requests = nul == std::string_view::npos ? std::string_view("a.test /a/b\n x\n") : in.substr(nul + 1);
  json::object spec;
  boost::system::error_code ec;
  json::value v = json::parse(spec_text, ec);
  if (!ec && v.is_object()) {
    spec = std::move(v.as_object());
  } else {
    spec = SpecFromBytes(spec_text);
  }
  // Traefik's entry point annotations, picked by the input's length.
  static const char* const entrypoints[] = {nullptr, "websecure", "web, websecure", "nonsense,,"};
  json::object meta{{"name", "i"}, {"namespace", "default"}};
  if (const char* e = entrypoints[size % 4]) {
    meta["annotations"] = json::object{{"traefik.ingress.kubernetes.io/router.entrypoints", e},
                                       {"traefik.ingress.kubernetes.io/router.tls", size % 8 < 4 ? "true" : "no"}};
  }
  json::object ingress{{"metadata", meta}, {"spec", spec}};
  static const auto cls = Obj(R"({"metadata":{"name":"traefik","annotations":{"ingressclass.kubernetes.io/is-default-class":"true"}},
                                  "spec":{"controller":"kite.io/ingress"}})");
  static const RouteTable::Objects services = {
      Obj(R"({"metadata":{"name":"web","namespace":"default"},"spec":{"clusterIP":"10.43.0.10","ports":[{"name":"http","port":80}]}})"),
      Obj(R"({"metadata":{"name":"api","namespace":"default"},"spec":{"clusterIP":"fd00::1","ports":[{"port":80},{"port":99999}]}})"),
      Obj(R"({"metadata":{"name":"headless","namespace":"default"},"spec":{"clusterIP":"None","ports":[{"port":80}]}})")};
  static const std::set<std::string> addresses = {"10.43.0.10:80", "[fd00::1]:80"};
  auto table = RouteTable::Build(kite::ingress::Options{}, {std::make_shared<const json::object>(std::move(ingress))},
                                 {cls}, services);
  if (table->rules() > PathsIn(spec)) abort();
  size_t start = 0, lines = 0;
  while (start <= requests.size() && lines++ < 256) {
    size_t end = requests.find('\n', start);
    if (end == std::string_view::npos) end = requests.size();
    const std::string_view line = requests.substr(start, end - start);
    const size_t sp = line.find(' ');
    const std::string_view host = line.substr(0, sp);
    const std::string_view path = sp == std::string_view::npos ? std::string_view("/") : line.substr(sp + 1);
    for (unsigned entrypoint : {kite::ingress::kWeb, kite::ingress::kWebsecure}) {
      if (const kite::ingress::Backend* b = table->Match(host, path, entrypoint)) {
        if (b->address.empty() ? b->error.empty() : !addresses.contains(b->address)) abort();
      }
    }
    if (const std::string* secret = table->TlsSecretFor(host); secret && !secret->starts_with("default/")) abort();
    start = end + 1;
  }
  return 0;
}
