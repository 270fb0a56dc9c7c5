#include "server/controllers/servicelb/servicelb_controller.h"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <set>

#include "api/object.h"
#include "base/log.h"

namespace kite::controllers {

namespace json = boost::json;

namespace {

bool NodeReady(const json::object& node) {
  for (const json::value& c : api::GetArray(node, {"status", "conditions"})) {
    if (c.is_object() && api::GetString(c.as_object(), "type") == "Ready") {
      return api::GetString(c.as_object(), "status") == "True";
    }
  }
  return false;
}

bool Ours(const json::object& svc) {
  const std::string cls = api::GetString(svc, {"spec", "loadBalancerClass"});
  return cls.empty() || cls == kServiceLbClass;
}

class ServiceLbController final : public client::Controller {
 public:
  explicit ServiceLbController(const client::Client* c)
      : Controller("servicelb", 1),
        client_(c),
        services_r_(api::FindResource("", "v1", "services")),
        nodes_r_(api::FindResource("", "v1", "nodes")) {}

  void Init(client::InformerFactory& f) override {
    services_ = f.For(*services_r_);
    nodes_ = f.For(*nodes_r_);
    services_->AddHandler(client::EnqueueSelf(&queue_));
    client::EventHandler n;
    n.on_add = [this](const client::ObjectPtr&) { EnqueueLoadBalancers(); };
    n.on_update = [this](const client::ObjectPtr& a, const client::ObjectPtr& b) {
      if (NodeReady(*a) != NodeReady(*b) || api::GetArray(*a, {"status", "addresses"}) != api::GetArray(*b, {"status", "addresses"}) ||
          api::Labels(*a) != api::Labels(*b)) {
        EnqueueLoadBalancers();
      }
    };
    n.on_delete = [this](const client::ObjectPtr&) { EnqueueLoadBalancers(); };
    nodes_->AddHandler(std::move(n));
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = client::SplitKey(key);
    client::ObjectPtr svc = services_->Get(ns, name);
    if (!svc || !Ours(*svc)) return Status::Ok();
    const bool lb = api::GetString(*svc, {"spec", "type"}) == "LoadBalancer";
    json::array want;
    if (lb) {
      for (const std::string& ip : Addresses()) want.push_back(json::object{{"ip", ip}});
    }
    const json::array& have = api::GetArray(*svc, {"status", "loadBalancer", "ingress"});
    if (have == want) return Status::Ok();
    if (!lb && have.empty()) return Status::Ok();
    json::object patch{{"status", json::object{{"loadBalancer", json::object{{"ingress", want}}}}}};
    auto r = client_->Patch(*services_r_, ns, name, client::PatchType::kMerge, json::serialize(patch), "status");
    if (!r.ok()) return r.NotFound() ? Status::Ok() : r.status().Annotate("service " + key + " load balancer status");
    KITE_LOG(1) << "servicelb: " << key << " ingress " << json::serialize(want);
    return Status::Ok();
  }

 private:
  void EnqueueLoadBalancers() {
    for (const client::ObjectPtr& s : services_->List()) {
      if (api::GetString(*s, {"spec", "type"}) == "LoadBalancer") queue_.Add(api::Namespace(*s) + "/" + api::Name(*s));
    }
  }

  std::vector<std::string> Addresses() const {
    std::vector<client::ObjectPtr> nodes = nodes_->List();
    const bool opt_in = std::any_of(nodes.begin(), nodes.end(), [](const client::ObjectPtr& n) {
      return api::GetString(api::Labels(*n), kEnableLbLabel) == "true";
    });
    std::set<std::string> ips;
    for (const client::ObjectPtr& n : nodes) {
      if (!NodeReady(*n)) continue;
      if (opt_in && api::GetString(api::Labels(*n), kEnableLbLabel) != "true") continue;
      for (const json::value& a : api::GetArray(*n, {"status", "addresses"})) {
        if (!a.is_object() || api::GetString(a.as_object(), "type") != "InternalIP") continue;
        std::string ip = api::GetString(a.as_object(), "address");
        if (!ip.empty() && ip.find(':') == std::string::npos) ips.insert(ip);
      }
    }
    return {ips.begin(), ips.end()};
  }

  const client::Client* client_;
  const api::ResourceInfo* services_r_;
  const api::ResourceInfo* nodes_r_;
  client::Informer* services_ = nullptr;
  client::Informer* nodes_ = nullptr;
};

}  // namespace

std::unique_ptr<client::Controller> NewServiceLbController(const client::Client* client) {
  return std::make_unique<ServiceLbController>(client);
}

}  // namespace kite::controllers
