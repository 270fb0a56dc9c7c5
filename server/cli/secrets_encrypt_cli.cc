#include "server/cli/secrets_encrypt_cli.h"

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "api/object.h"
#include "base/flags.h"
#include "base/https_client.h"
#include "client/rest_transport.h"
#include "server/apiserver/encryption/secrets_encrypt.h"

namespace kite::cli {
namespace json = boost::json;

namespace {

constexpr const char* kVerbs = "status, enable, disable, prepare, rotate, reencrypt, rotate-keys";

std::string Read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The error text of a failed answer: a metav1.Status's message, else the body.
std::string ErrorOf(const client::Response& r) {
  if (r.code == 0) return r.error;
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (!ec && v.is_object() && v.as_object().contains("message")) return api::GetString(v.as_object(), "message");
  return "HTTP " + std::to_string(r.code) + ": " + r.body;
}

void PrintStatus(const json::object& s) {
  const json::value* enable = s.if_contains("enable");
  std::cout << "Encryption Status: "
            << (enable && enable->is_bool() ? (enable->as_bool() ? "Enabled" : "Disabled") : "Disabled") << "\n";
  if (enable && enable->is_bool()) {
    std::cout << "Current Rotation Stage: " << api::GetString(s, "stage") << "\n";
    std::cout << "Server Encryption Hashes: "
              << (api::GetBool(s, "hashmatch") ? "All hashes match" : api::GetString(s, "hasherror")) << "\n\n";
    std::cout << "Active  Key Type  Name\n------  --------  ----\n";
    if (std::string active = api::GetString(s, "activekey"); !active.empty()) {
      std::cout << " *      AES-CBC   " << active << "\n";
    }
    for (const auto& k : api::GetArray(s, "inactivekeys")) {
      if (k.is_string()) std::cout << "        AES-CBC   " << std::string(k.as_string()) << "\n";
    }
  }
}

}  // namespace

int SecretsEncryptMain(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') {
    std::cerr << "usage: kite-server secrets-encrypt <" << kVerbs << "> [flags]\n";
    return 2;
  }
  const std::string verb = argv[1];
  std::string data_dir = "/var/lib/kite", server = "https://127.0.0.1:6443", output = "text";
  bool force = false, skip = false;
  FlagSet flags("kite-server secrets-encrypt " + verb);
  flags.String("data-dir", &data_dir, "kite-server's data dir (for the admin certificate)");
  flags.String("server", &server, "The kite-server to ask");
  flags.String("output", &output, "status: text or json");
  flags.Bool("force", &force, "prepare, rotate, reencrypt: go on whatever the current stage");
  flags.Bool("skip", &skip, "reencrypt: keep every key afterwards (no key is removed)");
  // k3s's short form -o for --output.
  std::vector<std::string> args(argv + 1, argv + argc);
  for (auto& a : args) {
    if (a == "-o") a = "--output";
  }
  std::vector<char*> ptrs;
  for (auto& a : args) ptrs.push_back(a.data());
  if (auto s = flags.Parse(static_cast<int>(ptrs.size()), ptrs.data()); !s.ok()) {
    std::cerr << "kite-server secrets-encrypt: " << s.message() << "\n\n" << flags.Usage();
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << "kite-server secrets-encrypt <" << kVerbs << ">\n\n" << flags.Usage();
    return 0;
  }
  json::object request;
  std::string done;
  if (verb == "enable" || verb == "disable") {
    request["enable"] = verb == "enable";
    done = "secrets-encryption " + verb + "d";
  } else if (verb == "prepare" || verb == "rotate") {
    request["stage"] = verb;
    request["force"] = force;
    done = verb + " completed successfully";
  } else if (verb == "reencrypt") {
    request["stage"] = "reencrypt_active";
    request["force"] = force;
    request["skip"] = skip;
    done = "reencryption started";
  } else if (verb == "rotate-keys") {
    request["stage"] = "rotate_keys";
    done = "keys rotated, reencryption started";
  } else if (verb != "status") {
    std::cerr << "kite-server secrets-encrypt: unknown verb " << verb << " (" << kVerbs << ")\n";
    return 2;
  }

  const std::filesystem::path tls = std::filesystem::path(data_dir) / "server" / "tls";
  Kubeconfig kc;
  if (auto s = SetServer(server, &kc); !s.ok()) {
    std::cerr << "kite-server secrets-encrypt: --server: " << s.message() << "\n";
    return 2;
  }
  kc.ca_pem = Read(tls / "server-ca.crt");
  kc.cert_pem = Read(tls / "client-admin.crt");
  kc.key_pem = Read(tls / "client-admin.key");
  if (kc.ca_pem.empty() || kc.cert_pem.empty() || kc.key_pem.empty()) {
    std::cerr << "kite-server secrets-encrypt: cannot read the admin certificate under " << tls.string()
              << " (run as root, with --data-dir)\n";
    return 1;
  }
  auto transport = client::MakeRestTransport(kc);
  if (!transport.ok()) {
    std::cerr << "kite-server secrets-encrypt: " << transport.status().message() << "\n";
    return 1;
  }
  client::Request r;
  if (verb == "status") {
    r.path = apiserver::encryption::kStatusPath;
  } else {
    r.method = "PUT";
    r.path = apiserver::encryption::kConfigPath;
    r.body = json::serialize(request);
  }
  client::Response resp = (*transport)->Do(r);
  if (resp.code != 200) {
    std::cerr << "kite-server secrets-encrypt " << verb << ": " << ErrorOf(resp) << "\n";
    return 1;
  }
  if (verb != "status") {
    std::cout << done << "\n";
    return 0;
  }
  if (output == "json") {
    std::cout << resp.body << "\n";
    return 0;
  }
  boost::system::error_code ec;
  json::value v = json::parse(resp.body, ec);
  if (ec || !v.is_object()) {
    std::cerr << "kite-server secrets-encrypt status: unexpected answer " << resp.body << "\n";
    return 1;
  }
  PrintStatus(v.as_object());
  return 0;
}

}  // namespace kite::cli
