#include "api/int_or_string.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace kite::api {

int64_t ScaledIntOrPercent(const boost::json::value* v, int64_t total, bool round_up, int64_t fallback) {
  if (!v) return fallback;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  if (!v->is_string()) return fallback;
  const std::string s(v->as_string());
  if (!s.empty() && s.back() == '%') {
    const double x = std::atof(s.c_str()) * static_cast<double>(total) / 100.0;  // atof stops at '%'
    return static_cast<int64_t>(round_up ? std::ceil(x) : std::floor(x));
  }
  return std::atoll(s.c_str());
}

}  // namespace kite::api
