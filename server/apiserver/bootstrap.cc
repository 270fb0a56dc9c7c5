// The objects every cluster starts with (bootstrap.h).
#include "server/apiserver/bootstrap.h"

#include <boost/json.hpp>

#include <memory>

#include "api/time.h"
#include "api/resources.h"
#include "server/apiserver/storage/registry.h"

namespace kite::apiserver {
namespace {

// Creates `obj` at `key` unless something is there already.
Status CreateIfMissing(datastore::Store* store, const std::string& key, boost::json::object obj) {
  datastore::TxnRequest t;
  datastore::Compare c;
  c.key = key;
  c.target = datastore::Compare::Target::kMod;
  t.compare.push_back(c);
  obj["metadata"].as_object()["uid"] = NewUid();
  obj["metadata"].as_object()["creationTimestamp"] = api::NowTime();
  datastore::PutRequest put;
  put.key = key;
  put.value = std::make_shared<const std::string>(boost::json::serialize(obj));
  t.success.push_back(datastore::RequestOp{std::move(put)});
  auto r = store->TxnSync(std::move(t));
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace

// The namespaces every cluster starts with (created once; kept if they exist).
Status EnsureSystemNamespaces(datastore::Store* store) {
  const api::ResourceInfo* nsr = api::FindResource("", "v1", "namespaces");
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    boost::json::object obj{{"apiVersion", "v1"}, {"kind", "Namespace"},
                            {"metadata", boost::json::object{{"name", name}, {"labels", boost::json::object{{"kubernetes.io/metadata.name", name}}}}},
                            {"spec", boost::json::object{{"finalizers", boost::json::array{"kubernetes"}}}},
                            {"status", boost::json::object{{"phase", "Active"}}}};
    if (auto s = CreateIfMissing(store, StorageKey(*nsr, "", name), std::move(obj)); !s.ok()) return s;
  }
  return Status::Ok();
}

// The two PriorityClasses every cluster has (upstream's apiserver creates them at start), so
// that add-ons naming them are admitted.
Status EnsureSystemPriorityClasses(datastore::Store* store) {
  const api::ResourceInfo* pcr = api::FindResource("scheduling.k8s.io", "v1", "priorityclasses");
  struct Builtin {
    const char* name;
    int64_t value;
    const char* description;
  };
  for (const Builtin& b : {Builtin{"system-node-critical", 2000001000,
                                   "Used for system critical pods that must not be moved from their current node."},
                           Builtin{"system-cluster-critical", 2000000000,
                                   "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."}}) {
    boost::json::object obj{{"apiVersion", "scheduling.k8s.io/v1"}, {"kind", "PriorityClass"},
                            {"metadata", boost::json::object{{"name", b.name}}},
                            {"value", b.value}, {"globalDefault", false}, {"description", b.description},
                            {"preemptionPolicy", "PreemptLowerPriority"}};
    if (auto s = CreateIfMissing(store, StorageKey(*pcr, "", b.name), std::move(obj)); !s.ok()) return s;
  }
  return Status::Ok();
}

Status EnsureKubernetesService(datastore::Store* store, const std::string& service_ip, const std::string& ip, int port) {
  namespace json = boost::json;
  const api::ResourceInfo* svc = api::FindResource("", "v1", "services");
  const api::ResourceInfo* eps = api::FindResource("", "v1", "endpoints");
  json::object labels{{"component", "apiserver"}, {"provider", "kubernetes"}};
  json::object service{
      {"apiVersion", "v1"}, {"kind", "Service"},
      {"metadata", json::object{{"name", "kubernetes"}, {"namespace", "default"}, {"labels", labels}}},
      {"spec", json::object{{"type", "ClusterIP"}, {"clusterIP", service_ip}, {"clusterIPs", json::array{json::string(service_ip)}},
                            {"ports", json::array{json::object{{"name", "https"}, {"port", 443}, {"protocol", "TCP"},
                                                               {"targetPort", 6443}}}},
                            {"sessionAffinity", "None"}, {"ipFamilies", json::array{"IPv4"}},
                            {"ipFamilyPolicy", "SingleStack"}, {"internalTrafficPolicy", "Cluster"}}},
      {"status", json::object{{"loadBalancer", json::object()}}}};
  if (auto s = CreateIfMissing(store, StorageKey(*svc, "default", "kubernetes"), std::move(service)); !s.ok()) return s;
  json::object endpoints{
      {"apiVersion", "v1"}, {"kind", "Endpoints"},
      {"metadata", json::object{{"name", "kubernetes"}, {"namespace", "default"}, {"labels", json::object{{"endpointslice.kubernetes.io/skip-mirror", "true"}}}}},
      {"subsets", json::array{json::object{
                      {"addresses", json::array{json::object{{"ip", ip}}}},
                      {"ports", json::array{json::object{{"name", "https"}, {"port", port}, {"protocol", "TCP"}}}}}}}};
  if (auto s = CreateIfMissing(store, StorageKey(*eps, "default", "kubernetes"), std::move(endpoints)); !s.ok()) return s;
  // The EndpointSlice the service proxy and DNS read (upstream's API server writes it too; the
  // endpointslice controller leaves Services without a selector alone).
  const api::ResourceInfo* slices = api::FindResource("discovery.k8s.io", "v1", "endpointslices");
  json::object slice{
      {"apiVersion", "discovery.k8s.io/v1"}, {"kind", "EndpointSlice"},
      {"metadata", json::object{{"name", "kubernetes"}, {"namespace", "default"},
                                {"labels", json::object{{"kubernetes.io/service-name", "kubernetes"}}}}},
      {"addressType", "IPv4"},
      {"endpoints", json::array{json::object{{"addresses", json::array{json::string(ip)}},
                                             {"conditions", json::object{{"ready", true}}}}}},
      {"ports", json::array{json::object{{"name", "https"}, {"port", port}, {"protocol", "TCP"}}}}};
  return CreateIfMissing(store, StorageKey(*slices, "default", "kubernetes"), std::move(slice));
}

}  // namespace kite::apiserver
