#include "server/controllers/serviceaccount/tokens_controller.h"

#include <boost/json.hpp>

#include <fstream>
#include <optional>
#include <sstream>

#include "api/object.h"
#include "base/encoding.h"
#include "base/log.h"
#include "client/informer.h"
#include "server/serviceaccount/tokens.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;

namespace {

constexpr char kTokenType[] = "kubernetes.io/service-account-token";
constexpr char kNameAnnotation[] = "kubernetes.io/service-account.name";
constexpr char kUidAnnotation[] = "kubernetes.io/service-account.uid";

std::optional<serviceaccount::jwt::Key> LoadKey(const std::string& path) {
  if (path.empty()) return std::nullopt;
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  auto key = serviceaccount::jwt::Key::FromPem(s.str());
  if (!key.ok() || !key->has_private()) {
    KITE_LOG(0) << "serviceaccount-token: no signing key in " << path << ": legacy token secrets stay unfilled";
    return std::nullopt;
  }
  return std::move(*key);
}

class TokensController final : public client::Controller {
 public:
  TokensController(const client::Client* c, std::optional<serviceaccount::jwt::Key> key, std::string ca)
      : Controller("serviceaccount-token", 1), client_(c), key_(std::move(key)), ca_(std::move(ca)),
        secrets_r_(api::FindResource("", "v1", "secrets")), accounts_r_(api::FindResource("", "v1", "serviceaccounts")) {}

  void Init(client::InformerFactory& f) override {
    secrets_ = f.For(*secrets_r_);
    accounts_ = f.For(*accounts_r_);
    if (!key_) return;
    auto enqueue = [this](const ObjectPtr& s) {
      if (api::GetString(*s, "type") == kTokenType) queue_.Add(api::Namespace(*s) + "/" + api::Name(*s));
    };
    secrets_->AddHandler(client::EventHandler{enqueue, [enqueue](const ObjectPtr&, const ObjectPtr& s) { enqueue(s); }, nullptr});
    // An account deleted or re-created: its token secrets are looked at again.
    auto account_changed = [this](const ObjectPtr& sa) {
      for (const auto& s : secrets_->List(api::Namespace(*sa))) {
        if (api::GetString(*s, "type") == kTokenType &&
            api::GetString(api::Annotations(*s), kNameAnnotation) == api::Name(*sa)) {
          queue_.Add(api::Namespace(*s) + "/" + api::Name(*s));
        }
      }
    };
    accounts_->AddHandler(client::EventHandler{account_changed, [account_changed](const ObjectPtr&, const ObjectPtr& sa) {
                                                 account_changed(sa);
                                               },
                                               account_changed});
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = client::SplitKey(key);
    ObjectPtr cached = secrets_->Get(ns, name);
    if (!cached || api::GetString(*cached, "type") != kTokenType || api::IsBeingDeleted(*cached)) return Status::Ok();
    const std::string sa_name = api::GetString(api::Annotations(*cached), kNameAnnotation);
    // The cache may lag behind a just-made account: ask the server before deleting anything.
    json::object sa;
    if (ObjectPtr a = accounts_->Get(ns, sa_name)) {
      sa = *a;
    } else {
      auto live = client_->Get(*accounts_r_, ns, sa_name);
      if (!live.ok() && !live.NotFound()) return live.error();
      if (live.NotFound() || sa_name.empty()) return DeleteSecret(ns, name);
      sa = std::move(*live);
    }
    const std::string uid_annotation = api::GetString(api::Annotations(*cached), kUidAnnotation);
    if (!uid_annotation.empty() && uid_annotation != api::Uid(sa)) return DeleteSecret(ns, name);

    const json::object& data = api::GetObject(*cached, "data");
    const std::string want_ca = Base64Encode(ca_), want_ns = Base64Encode(ns);
    const bool has_token = !api::GetString(data, "token").empty();
    if (has_token && !uid_annotation.empty() && api::GetString(data, "namespace") == want_ns &&
        (ca_.empty() || api::GetString(data, "ca.crt") == want_ca)) {
      return Status::Ok();
    }
    json::object secret = *cached;
    json::object& meta = secret["metadata"].as_object();
    json::value& ann = meta["annotations"];
    if (!ann.is_object()) ann = json::object();
    ann.as_object()[kUidAnnotation] = api::Uid(sa);
    json::value& dv = secret["data"];
    if (!dv.is_object()) dv = json::object();
    json::object& d = dv.as_object();
    if (!has_token) {
      serviceaccount::Claims c;
      c.legacy = true;
      c.ns = ns;
      c.service_account = {sa_name, api::Uid(sa)};
      c.secret = {name, ""};
      auto token = serviceaccount::Issue(*key_, c);
      if (!token.ok()) return token.status();
      d["token"] = Base64Encode(*token);
    }
    d["namespace"] = want_ns;
    if (!ca_.empty()) d["ca.crt"] = want_ca;
    auto r = client_->Update(*secrets_r_, ns, secret);
    if (r.ok() || r.NotFound()) return Status::Ok();
    return r.error().Annotate("filling token secret " + key);  // a conflict retries with the newer copy
  }

 private:
  Status DeleteSecret(const std::string& ns, const std::string& name) {
    auto r = client_->Delete(*secrets_r_, ns, name);
    if (r.ok() || r.NotFound()) return Status::Ok();
    return r.error().Annotate("deleting token secret " + ns + "/" + name + " of a missing service account");
  }

  const client::Client* client_;
  const std::optional<serviceaccount::jwt::Key> key_;
  const std::string ca_;
  const api::ResourceInfo* secrets_r_;
  const api::ResourceInfo* accounts_r_;
  client::Informer* secrets_ = nullptr;
  client::Informer* accounts_ = nullptr;
};

}  // namespace

std::unique_ptr<client::Controller> NewServiceAccountTokensController(const client::Client* client,
                                                                      const std::string& key_file,
                                                                      const std::string& root_ca_pem) {
  return std::make_unique<TokensController>(client, LoadKey(key_file), root_ca_pem);
}

}  // namespace kite::controllers
