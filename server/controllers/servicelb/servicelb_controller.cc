#include "server/controllers/servicelb/servicelb_controller.h"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

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
    // A LoadBalancer Service that comes, goes or changes may free or take another's ports.
    client::EventHandler s;
    s.on_add = [this](const client::ObjectPtr& o) { OnService(nullptr, o); };
    s.on_update = [this](const client::ObjectPtr& a, const client::ObjectPtr& b) { OnService(a, b); };
    s.on_delete = [this](const client::ObjectPtr& o) { OnService(o, nullptr); };
    services_->AddHandler(std::move(s));
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
      if (const std::string holder = PortHolder(*svc); !holder.empty()) {
        KITE_LOG(1) << "servicelb: " << key << " stays Pending: " << holder;
      } else {
        for (const std::string& ip : Addresses()) want.push_back(json::object{{"ip", ip}});
      }
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
  static bool IsLb(const client::ObjectPtr& s) { return s && api::GetString(*s, {"spec", "type"}) == "LoadBalancer"; }

  void OnService(const client::ObjectPtr& before, const client::ObjectPtr& after) {
    const client::ObjectPtr& s = after ? after : before;
    queue_.Add(api::Namespace(*s) + "/" + api::Name(*s));
    if (IsLb(before) || IsLb(after)) EnqueueLoadBalancers();
  }

  // "port P/PROTO is held by ns/name" when a LoadBalancer Service of ours granted before `svc`
  // (in age order, each granted when its ports are free) holds one of svc's ports; "" when none.
  std::string PortHolder(const json::object& svc) const {
    auto ports = [](const json::object& s) {
      std::set<std::string> out;
      for (const json::value& p : api::GetArray(s, {"spec", "ports"})) {
        std::string proto = api::GetString(api::AsObject(p), "protocol");
        out.insert(std::to_string(api::GetInt(api::AsObject(p), "port")) + "/" + (proto.empty() ? "TCP" : proto));
      }
      return out;
    };
    auto age = [](const json::object& s) {
      return std::make_tuple(api::GetString(s, {"metadata", "creationTimestamp"}), api::Namespace(s), api::Name(s));
    };
    std::vector<client::ObjectPtr> lbs;
    for (const client::ObjectPtr& s : services_->List()) {
      if (IsLb(s) && Ours(*s) && age(*s) < age(svc)) lbs.push_back(s);
    }
    std::sort(lbs.begin(), lbs.end(), [&](const client::ObjectPtr& a, const client::ObjectPtr& b) { return age(*a) < age(*b); });
    std::map<std::string, std::string> held;  // "port/PROTO" → its holder
    for (const client::ObjectPtr& s : lbs) {
      const std::set<std::string> mine = ports(*s);
      if (std::any_of(mine.begin(), mine.end(), [&](const std::string& p) { return held.contains(p); })) continue;
      for (const std::string& p : mine) held.emplace(p, api::Namespace(*s) + "/" + api::Name(*s));
    }
    for (const std::string& p : ports(svc)) {
      if (auto it = held.find(p); it != held.end()) return "port " + p + " is held by " + it->second;
    }
    return "";
  }

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
