// kite-cni (plugin.h): run by the container runtime as `bridge`, `loopback` or `portmap`.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent/cni/plugin.h"
#include "api/object.h"

namespace {

using kite::cni::Failure;

// The runtime's configurations are a few KiB; a bound keeps a runaway writer from taking memory.
constexpr size_t kMaxInput = 16 << 20;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

void Print(const std::string& text) {
  if (text.empty()) return;
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

int Fail(const std::string& version, const Failure& f) {
  Print(kite::cni::ErrorJson(version, f));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  namespace cni = kite::cni;
  cni::Invocation inv;
  inv.self = argc > 0 ? argv[0] : "";
  const auto slash = inv.self.rfind('/');
  inv.plugin = slash == std::string::npos ? inv.self : inv.self.substr(slash + 1);
  inv.command = Env("CNI_COMMAND");
  if (inv.plugin != "bridge" && inv.plugin != "loopback" && inv.plugin != "portmap") {
    std::fprintf(stderr, "kite-cni: run as bridge, loopback or portmap (a link of that name), not %s\n", inv.plugin.c_str());
    return 2;
  }
  if (inv.command == "VERSION") {
    Print(cni::VersionJson());
    return 0;
  }
  inv.container_id = Env("CNI_CONTAINERID");
  inv.netns = Env("CNI_NETNS");
  inv.ifname = Env("CNI_IFNAME");
  char buf[65536];
  for (;;) {
    const ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail("", {cni::kErrInternal, "reading the configuration failed"});
    if (n == 0) break;
    inv.input.append(buf, static_cast<size_t>(n));
    if (inv.input.size() > kMaxInput) return Fail("", {cni::kErrDecoding, "the configuration is larger than 16 MiB"});
  }
  boost::system::error_code ec;
  boost::json::value conf = boost::json::parse(inv.input, ec);
  if (ec || !conf.is_object()) return Fail("", {cni::kErrDecoding, "the configuration is not a JSON object", ec.message()});
  inv.config = std::move(conf.as_object());
  const std::string version = kite::api::GetString(inv.config, "cniVersion");
  if (!version.empty() && !cni::SupportedVersion(version)) {
    return Fail(version, {cni::kErrIncompatibleVersion, "incompatible CNI versions",
                          "config is \"" + version + "\", plugin supports [0.3.0 0.3.1 0.4.0 1.0.0]"});
  }
  if (inv.command != "ADD" && inv.command != "DEL" && inv.command != "CHECK") {
    return Fail(version, {cni::kErrInvalidEnvironment, "unknown CNI_COMMAND \"" + inv.command + "\""});
  }
  if (inv.container_id.empty()) return Fail(version, {cni::kErrInvalidEnvironment, "required env variables [CNI_CONTAINERID] missing"});
  if (inv.ifname.empty()) return Fail(version, {cni::kErrInvalidEnvironment, "required env variables [CNI_IFNAME] missing"});
  std::optional<cni::Outcome> out = inv.plugin == "bridge"     ? cni::Bridge(inv)
                                    : inv.plugin == "loopback" ? cni::Loopback(inv)
                                                               : cni::Portmap(inv);
  if (!out) return Fail(version, cni::HandOn(inv, argv));  // returns only when that failed
  if (!out->has_value()) return Fail(version, out->error());
  Print(**out);
  return 0;
}
