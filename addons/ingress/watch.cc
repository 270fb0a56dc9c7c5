#include "addons/ingress/watch.h"

#include "api/object.h"
#include "api/resources.h"
#include "base/log.h"
#include "client/controller.h"
#include "client/status_update.h"

namespace kite::ingress {

namespace json = boost::json;

IngressWatch::IngressWatch(const client::Client* client, Options options, std::string published_service, Publish publish)
    : client_(client), options_(std::move(options)), published_(std::move(published_service)),
      publish_(std::move(publish)), informers_(client) {
  ingresses_ = informers_.For("networking.k8s.io", "v1", "ingresses");
  classes_ = informers_.For("networking.k8s.io", "v1", "ingressclasses");
  services_ = informers_.For("", "v1", "services");
  secrets_ = informers_.For("", "v1", "secrets");
  loop_ = std::make_unique<client::RebuildLoop>(&informers_, std::vector<client::Informer*>{ingresses_, classes_, services_, secrets_},
                                                [this] { Rebuild(); });
}

void IngressWatch::Rebuild() {
  auto table = RouteTable::Build(options_, ingresses_->List(), classes_->List(), services_->List());
  KITE_LOG(2) << "kite-ingress: routes rebuilt: " << table->ingresses().size() << " ingresses, " << table->rules()
              << " rules";
  auto tls = certificates_.Update(table, [this](const std::string& key) {
    const auto [ns, name] = client::SplitKey(key);
    return secrets_->Get(ns, name);
  });
  publish_(table, std::move(tls));
  if (!Ready()) KITE_LOG(0) << "kite-ingress: routes loaded";
  WriteStatuses(*table);
}

void IngressWatch::WriteStatuses(const RouteTable& table) {
  if (published_.empty()) return;
  const auto [svc_ns, svc_name] = client::SplitKey(published_);
  const client::ObjectPtr svc = services_->Get(svc_ns, svc_name);
  // The Service's addresses as Ingress addresses (IngressLoadBalancerIngress: ip, hostname,
  // ports); none yet (or no Service): an empty status, as Traefik leaves it.
  json::array addresses;
  if (svc) {
    for (const json::value& in : api::GetArray(*svc, {"status", "loadBalancer", "ingress"})) {
      const json::object& o = api::AsObject(in);
      json::object a;
      if (const std::string ip = api::GetString(o, "ip"); !ip.empty()) a["ip"] = ip;
      if (const std::string host = api::GetString(o, "hostname"); !host.empty()) a["hostname"] = host;
      if (!a.empty()) addresses.push_back(std::move(a));
    }
  }
  json::object status;
  json::object lb;
  if (!addresses.empty()) lb["ingress"] = std::move(addresses);
  status["loadBalancer"] = std::move(lb);
  const api::ResourceInfo* r = api::FindResource("networking.k8s.io", "v1", "ingresses");
  for (const std::string& key : table.ingresses()) {
    const auto [ns, name] = client::SplitKey(key);
    const client::ObjectPtr ing = ingresses_->Get(ns, name);
    if (!ing || !r) continue;
    if (Status st = client::UpdateStatusIfChanged(*client_, *r, *ing, status); !st.ok()) {
      KITE_LOG(1) << "kite-ingress: status of ingress " << key << ": " << st.message();
    }
  }
}

}  // namespace kite::ingress
