// Builders of Pod and Node objects (the API's JSON) for the scheduler's unit tests.
#pragma once

#include <boost/json.hpp>

#include <memory>
#include <string>

#include "server/scheduler/cache.h"
#include "server/scheduler/pod_info.h"

namespace kite::scheduler::testing {

inline boost::json::object ParseObject(const std::string& text) { return boost::json::parse(text).as_object(); }

// A pod "ns/name" requesting cpu/memory (empty: none) in one container; `spec_extra` and
// `meta_extra` are merged into spec / metadata (JSON object text).
inline boost::json::object PodObject(const std::string& name, const std::string& cpu = "", const std::string& mem = "",
                                     const std::string& spec_extra = "{}", const std::string& meta_extra = "{}",
                                     const std::string& ns = "default") {
  boost::json::object requests;
  if (!cpu.empty()) requests["cpu"] = cpu;
  if (!mem.empty()) requests["memory"] = mem;
  boost::json::object container{{"name", "c"}, {"image", "busybox"}};
  if (!requests.empty()) container["resources"] = boost::json::object{{"requests", requests}};
  boost::json::object spec{{"containers", boost::json::array{container}}, {"schedulerName", "default-scheduler"}};
  for (auto& [k, v] : ParseObject(spec_extra)) spec[k] = v;
  boost::json::object meta{{"name", name}, {"namespace", ns}, {"uid", "uid-" + name},
                           {"creationTimestamp", "2024-01-01T00:00:00Z"}};
  for (auto& [k, v] : ParseObject(meta_extra)) meta[k] = v;
  return boost::json::object{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", meta}, {"spec", spec}};
}

inline PodInfoPtr MakePod(const std::string& name, const std::string& cpu = "", const std::string& mem = "",
                          const std::string& spec_extra = "{}", const std::string& meta_extra = "{}",
                          const std::string& ns = "default") {
  return ParsePod(std::make_shared<const boost::json::object>(PodObject(name, cpu, mem, spec_extra, meta_extra, ns)), {});
}

// A node with allocatable cpu / memory / pods and a kubernetes.io/hostname label; extra labels
// and spec fields as JSON object text.
inline NodeSpecPtr MakeNode(const std::string& name, const std::string& cpu = "4", const std::string& mem = "8Gi",
                            const std::string& labels_extra = "{}", const std::string& spec_extra = "{}",
                            int64_t pods = 110) {
  boost::json::object labels{{"kubernetes.io/hostname", name}};
  for (auto& [k, v] : ParseObject(labels_extra)) labels[k] = v;
  boost::json::object obj{
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata", boost::json::object{{"name", name}, {"labels", labels}}},
      {"spec", ParseObject(spec_extra)},
      {"status", boost::json::object{{"allocatable", boost::json::object{{"cpu", cpu}, {"memory", mem}, {"pods", pods}}}}}};
  return ParseNode(std::make_shared<const boost::json::object>(std::move(obj)));
}

// The pod placed on `node` (spec.nodeName set).
inline PodInfoPtr Bound(const std::string& node, const std::string& name, const std::string& cpu = "",
                        const std::string& mem = "", const std::string& spec_extra = "{}",
                        const std::string& meta_extra = "{}") {
  auto spec = ParseObject(spec_extra);
  spec["nodeName"] = node;
  return MakePod(name, cpu, mem, boost::json::serialize(spec), meta_extra);
}

}  // namespace kite::scheduler::testing
