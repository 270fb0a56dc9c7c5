#include "base/metrics.h"

#include <prometheus/text_serializer.h>

#include <iterator>

#include "base/process_metrics.h"

namespace kite::metrics {

prometheus::Registry& Default() {
  static auto* registry = new prometheus::Registry();  // never destroyed: used during exit
  return *registry;
}

prometheus::Registry& Kubelet() {
  static auto* registry = new prometheus::Registry();  // never destroyed: used during exit
  return *registry;
}

std::string Serialize() { return Serialize(Default()); }

std::string Serialize(const prometheus::Registry& registry) {
  prometheus::TextSerializer serializer;
  auto families = registry.Collect();
  auto process = ProcessFamilies();
  families.insert(families.end(), std::make_move_iterator(process.begin()), std::make_move_iterator(process.end()));
  return serializer.Serialize(families);
}

prometheus::Histogram::BucketBoundaries ExponentialBuckets(double start, double factor, int count) {
  prometheus::Histogram::BucketBoundaries b;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) b.push_back(v);
  return b;
}

}  // namespace kite::metrics
