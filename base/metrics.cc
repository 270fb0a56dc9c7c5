#include "base/metrics.h"

#include <prometheus/text_serializer.h>

namespace kite::metrics {

prometheus::Registry& Default() {
  static auto* registry = new prometheus::Registry();  // never destroyed: used during exit
  return *registry;
}

std::string Serialize() {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(Default().Collect());
}

prometheus::Histogram::BucketBoundaries ExponentialBuckets(double start, double factor, int count) {
  prometheus::Histogram::BucketBoundaries b;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) b.push_back(v);
  return b;
}

}  // namespace kite::metrics
