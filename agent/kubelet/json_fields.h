// Lenient reads of API objects for the kubelet: a missing or mistyped field reads as empty, as
// the objects come from the server and only their shape of interest matters here.
#pragma once

#include <boost/json/object.hpp>

#include <string>

namespace kite::kubelet {

// o[name] when it is an object, else an empty one.
inline const boost::json::object& ObjectField(const boost::json::object& o, const char* name) {
  static const boost::json::object kEmpty;
  const boost::json::value* v = o.if_contains(name);
  return v && v->is_object() ? v->as_object() : kEmpty;
}

// o[name] when it is a string, else "".
inline std::string StringField(const boost::json::object& o, const char* name) {
  const boost::json::value* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace kite::kubelet
