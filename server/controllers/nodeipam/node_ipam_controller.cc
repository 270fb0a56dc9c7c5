#include "server/controllers/nodeipam/node_ipam_controller.h"

#include <boost/json.hpp>

#include <map>
#include <mutex>
#include <set>

#include "api/object.h"
#include "base/log.h"
#include "client/event_recorder.h"
#include "client/informer.h"

namespace kite::controllers {
namespace json = boost::json;

namespace nodeipam {

std::optional<Ipv4Cidr> Subnet(const Ipv4Cidr& cluster, int mask, uint32_t index) {
  const int bits = mask - cluster.prefix;
  if (bits < 0 || bits > 31 || index >= (uint32_t{1} << bits)) return std::nullopt;
  return Ipv4Cidr{cluster.base | (index << (32 - mask)), mask};
}

std::optional<uint32_t> SubnetIndex(const Ipv4Cidr& cluster, int mask, const Ipv4Cidr& subnet) {
  if (subnet.prefix != mask || mask <= cluster.prefix) return std::nullopt;
  const uint32_t cmask = cluster.prefix == 0 ? 0 : ~uint32_t{0} << (32 - cluster.prefix);
  if ((subnet.base & cmask) != cluster.base) return std::nullopt;
  return (subnet.base & ~cmask) >> (32 - mask);
}

}  // namespace nodeipam

namespace {

class NodeIpamController final : public client::Controller {
 public:
  NodeIpamController(const client::Client* c, Ipv4Cidr cluster, int mask, const kite::Clock* clock)
      : Controller("nodeipam", 1, clock),
        client_(c),
        nodes_r_(api::FindResource("", "v1", "nodes")),
        cluster_(cluster),
        mask_(mask),
        events_(c, "node-ipam-controller", "", clock) {}

  void Init(client::InformerFactory& f) override {
    nodes_ = f.For(*nodes_r_);
    client::EventHandler h;
    h.on_add = [this](const client::ObjectPtr& n) { queue_.Add(api::Name(*n)); };
    h.on_update = [this](const client::ObjectPtr&, const client::ObjectPtr& n) { queue_.Add(api::Name(*n)); };
    h.on_delete = [this](const client::ObjectPtr& n) {
      std::lock_guard<std::mutex> lock(mu_);
      pending_.erase(api::Name(*n));
    };
    nodes_->AddHandler(std::move(h));
  }

  Status Reconcile(const std::string& name) override {
    client::ObjectPtr node = nodes_->Get("", name);
    if (!node) return Status::Ok();
    if (!api::GetString(*node, {"spec", "podCIDR"}).empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      pending_.erase(name);  // the cache shows what we (or the node) set
      return Status::Ok();
    }
    std::optional<Ipv4Cidr> cidr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = pending_.find(name);
      if (it != pending_.end()) {
        cidr = nodeipam::Subnet(cluster_, mask_, it->second);
      } else {
        // Taken: every node's CIDR in the cache, and what we gave but the cache does not show yet.
        std::set<uint32_t> used;
        for (const auto& [n, index] : pending_) used.insert(index);
        for (const auto& n : nodes_->List()) {
          auto c = ParseIpv4Cidr(api::GetString(*n, {"spec", "podCIDR"}));
          if (!c.ok()) continue;
          if (auto index = nodeipam::SubnetIndex(cluster_, mask_, *c)) used.insert(*index);
        }
        uint32_t index = 0;
        while (used.count(index)) ++index;
        cidr = nodeipam::Subnet(cluster_, mask_, index);
        if (cidr) pending_[name] = index;
      }
    }
    if (!cidr) {
      events_.Record(*node, "Normal", "CIDRNotAvailable",
                     "Node " + name + " status is now: CIDRNotAvailable");
      KITE_LOG(0) << "nodeipam: no free /" << mask_ << " left in " << FormatIpv4Cidr(cluster_) << " for node " << name;
      return Status::Ok();
    }
    const std::string text = FormatIpv4Cidr(*cidr);
    json::object patch{{"spec", json::object{{"podCIDR", text}, {"podCIDRs", json::array{json::string(text)}}}}};
    auto r = client_->Patch(*nodes_r_, "", name, client::PatchType::kMerge, json::serialize(patch));
    if (!r.ok()) {
      if (r.NotFound()) {
        std::lock_guard<std::mutex> lock(mu_);
        pending_.erase(name);
        return Status::Ok();
      }
      return r.status().Annotate("assigning pod CIDR " + text + " to node " + name);
    }
    KITE_LOG(1) << "nodeipam: node " << name << " gets pod CIDR " << text;
    return Status::Ok();
  }

 private:
  const client::Client* client_;
  const api::ResourceInfo* nodes_r_;
  const Ipv4Cidr cluster_;
  const int mask_;
  client::EventRecorder events_;
  client::Informer* nodes_ = nullptr;
  std::mutex mu_;
  std::map<std::string, uint32_t> pending_;  // guarded by mu_: node → subnet index given, not yet cached
};

}  // namespace

Status CheckClusterCidr(const std::string& cluster_cidr, int node_mask) {
  auto c = ParseIpv4Cidr(cluster_cidr);
  if (!c.ok()) return c.status().Annotate("--cluster-cidr");
  if (node_mask <= c->prefix || node_mask > 30) {
    return Status(Code::kInvalidArgument, "--node-cidr-mask-size " + std::to_string(node_mask) +
                                              " must be longer than --cluster-cidr's /" + std::to_string(c->prefix) +
                                              " and at most 30");
  }
  return Status::Ok();
}

Result<std::unique_ptr<client::Controller>> NewNodeIpamController(const client::Client* client,
                                                                  const std::string& cluster_cidr, int node_mask,
                                                                  const kite::Clock* clock) {
  if (Status s = CheckClusterCidr(cluster_cidr, node_mask); !s.ok()) return s;
  auto c = ParseIpv4Cidr(cluster_cidr);
  return std::unique_ptr<client::Controller>(std::make_unique<NodeIpamController>(client, *c, node_mask, clock));
}

}  // namespace kite::controllers
