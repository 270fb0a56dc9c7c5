// kite-bodies-bench: what hostile request bodies cost the parsers and checkers they reach, in CPU
// time per call (CLOCK_PROCESS_CPUTIME_ID) and peak RSS, in-process (no server):
//  - a CRD schema with pattern ^(a+)+$ checked against a 50-character near-match "aaaa...!"
//    (the issue-14 target: well under a millisecond), and for contrast std::regex, the engine it
//    replaced, on shorter values (its time doubles with every character; 50 would take days);
//  - a JSON patch of 30 copies that each copy the whole document (refused at the copy bound);
//  - YAML bodies with a 3 MB scalar of digits and a 3 MB float (the scalar that crashed the
//    server through std::regex).
// Usage: kite-bodies-bench [--iterations N] [--no-std-regex]
#include <sys/resource.h>

#include <boost/json.hpp>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <regex>  // only for the contrast figure; product code has none
#include <string>

#include "api/json_patch.h"
#include "api/json_schema.h"
#include "api/yaml_json.h"

namespace {

namespace json = boost::json;

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

long PeakRssKb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// CPU microseconds per call of `fn`, over `n` calls.
double MicrosPerCall(int n, const std::function<void()>& fn) {
  const double start = CpuSeconds();
  for (int i = 0; i < n; ++i) fn();
  return (CpuSeconds() - start) * 1e6 / n;
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 10000;
  bool std_regex = true;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--iterations") && i + 1 < argc) iterations = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--no-std-regex")) std_regex = false;
  }

  // 1. The catastrophic pattern through the CRD schema checker.
  const json::object schema = json::parse(R"({"type":"object","properties":{"spec":{"type":"object",
      "properties":{"v":{"type":"string","pattern":"^(a+)+$"}}}}})")
                                  .as_object();
  const std::string evil = std::string(49, 'a') + "!";
  size_t errors = 0;
  const double first = MicrosPerCall(1, [&] {
    json::object obj{{"spec", json::object{{"v", evil}}}};
    errors += kite::api::CheckAgainstJsonSchema(obj, schema).errors.size();
  });
  const double per_call = MicrosPerCall(iterations, [&] {
    json::object obj{{"spec", json::object{{"v", evil}}}};
    errors += kite::api::CheckAgainstJsonSchema(obj, schema).errors.size();
  });
  const double match_only = MicrosPerCall(iterations, [&] { errors += !kite::api::SchemaPatternMatches("^(a+)+$", evil); });
  std::printf("crd_pattern ^(a+)+$ vs 50-char near-match: first call (compiles) %.1f us CPU, then %.2f us CPU per "
              "object check, %.2f us per match (%d iterations, %zu errors as expected)\n",
              first, per_call, match_only, iterations, errors);
  if (std_regex) {
    const std::regex re("^(a+)+$", std::regex::ECMAScript);
    for (int n : {16, 20, 22, 24}) {
      const std::string v = std::string(n - 1, 'a') + "!";
      bool matched = false;
      const double us = MicrosPerCall(1, [&] { matched = std::regex_search(v, re); });
      std::printf("  contrast: std::regex on a %d-char near-match: %.0f us CPU (matched=%d)\n", n, us, matched);
    }
  }

  // 2. The JSON patch bomb: 30 copies of the whole document into itself.
  json::array ops;
  for (int i = 0; i < 30; ++i) ops.push_back(json::object{{"op", "copy"}, {"from", ""}, {"path", "/c" + std::to_string(i)}});
  const json::value doc = json::object{{"metadata", json::object{{"name", "bomb"}}}, {"data", json::object{{"seed", std::string(1000, 'x')}}}};
  const long rss_before = PeakRssKb();
  std::string refusal;
  const double bomb_us = MicrosPerCall(10, [&] {
    auto out = kite::api::ApplyJsonPatch(doc, json::value(ops));
    refusal = out.ok() ? "applied (unexpected)" : out.status().message();
  });
  std::printf("json_patch bomb (30 whole-document copies): %.0f us CPU per refusal, peak RSS +%ld kB: %s\n", bomb_us,
              PeakRssKb() - rss_before, refusal.c_str());

  // 3. YAML scalars of body size.
  for (const char* kind : {"digits", "float"}) {
    const bool digits = !std::strcmp(kind, "digits");
    const std::string yaml = std::string("apiVersion: v1\nkind: ConfigMap\nimmutable: ") + (digits ? "" : "1.") +
                             std::string(3000000, digits ? '1' : '5') + "\n";
    std::string what;
    const double us = MicrosPerCall(5, [&] {
      auto v = kite::api::YamlToJson(yaml);
      what = !v.ok() ? "error" : v->as_object().at("immutable").is_string() ? "a string" : "a number";
    });
    std::printf("yaml 3 MB %s scalar: %.0f us CPU per body (becomes %s)\n", kind, us, what.c_str());
  }
  return 0;
}
