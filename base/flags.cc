#include "base/flags.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <filesystem>
#include <sstream>

namespace kite {
namespace {

Status BadValue(const std::string& name, const std::string& value, const std::string& want) {
  return Status(Code::kInvalidArgument,
                "invalid value \"" + value + "\" for flag --" + name + ": expected " + want);
}

}  // namespace

void FlagSet::String(const std::string& name, std::string* target, const std::string& help) {
  Flag f;
  f.help = help;
  f.default_text = *target;
  f.set = [target](const std::string& v) { *target = v; return Status::Ok(); };
  flags_[name] = std::move(f);
}

void FlagSet::Int(const std::string& name, int64_t* target, const std::string& help) {
  Flag f;
  f.help = help;
  f.default_text = std::to_string(*target);
  f.set = [target, name](const std::string& v) {
    int64_t out = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || p != v.data() + v.size()) return BadValue(name, v, "an integer");
    *target = out;
    return Status::Ok();
  };
  flags_[name] = std::move(f);
}

void FlagSet::Bool(const std::string& name, bool* target, const std::string& help) {
  Flag f;
  f.help = help;
  f.default_text = *target ? "true" : "false";
  f.is_bool = true;
  f.set = [target, name](const std::string& v) {
    if (v == "true" || v == "1" || v.empty()) *target = true;
    else if (v == "false" || v == "0") *target = false;
    else return BadValue(name, v, "true or false");
    return Status::Ok();
  };
  flags_[name] = std::move(f);
}

Result<int64_t> ParseDurationMs(const std::string& text) {
  if (text.empty()) return Status(Code::kInvalidArgument, "empty duration");
  double total = 0;
  size_t i = 0;
  bool bare = true;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i) return Status(Code::kInvalidArgument, "invalid duration \"" + text + "\"");
    double n = std::stod(text.substr(start, i - start));
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(ustart, i - ustart);
    double ms;
    if (unit.empty()) {
      if (!bare || i != text.size()) return Status(Code::kInvalidArgument, "invalid duration \"" + text + "\"");
      ms = 1000;
    } else if (unit == "ms") ms = 1;
    else if (unit == "s") ms = 1000;
    else if (unit == "m") ms = 60'000;
    else if (unit == "h") ms = 3'600'000;
    else return Status(Code::kInvalidArgument, "unknown unit \"" + unit + "\" in duration \"" + text + "\"");
    bare = false;
    total += n * ms;
  }
  return static_cast<int64_t>(total);
}

void FlagSet::Duration(const std::string& name, int64_t* target_ms, const std::string& help) {
  Flag f;
  f.help = help;
  f.default_text = std::to_string(*target_ms) + "ms";
  f.set = [target_ms, name](const std::string& v) {
    auto d = ParseDurationMs(v);
    if (!d.ok()) return BadValue(name, v, "a duration such as 30s or 5m");
    *target_ms = *d;
    return Status::Ok();
  };
  flags_[name] = std::move(f);
}

void FlagSet::StringList(const std::string& name, std::vector<std::string>* target,
                         const std::string& help) {
  Flag f;
  f.help = help;
  f.is_list = true;
  f.set = [target](const std::string& v) {
    // Comma-separated values are split, as Kubernetes string-slice flags do.
    std::stringstream ss(v);
    std::string item;
    while (std::getline(ss, item, ',')) if (!item.empty()) target->push_back(item);
    return Status::Ok();
  };
  f.clear = [target] { target->clear(); };
  flags_[name] = std::move(f);
}

void FlagSet::Forward(const std::string& name, std::map<std::string, std::string> targets, const std::string& help) {
  Flag f;
  f.help = help;
  f.is_list = true;
  f.forward = std::move(targets);  // Set() resolves each value to its target flag
  f.set = [](const std::string&) { return Status::Ok(); };
  f.clear = [] {};
  flags_[name] = std::move(f);
}

Status FlagSet::Set(const std::string& name, const std::string& value,
                    std::map<std::string, bool>& seen_list) {
  auto it = flags_.find(name);
  if (it == flags_.end()) return Status(Code::kInvalidArgument, "unknown flag: --" + name);
  if (!it->second.forward.empty()) {
    const size_t eq = value.find('=');
    std::string key = value.substr(0, eq);
    if (key.rfind("--", 0) == 0) key = key.substr(2);
    auto t = it->second.forward.find(key);
    if (t == it->second.forward.end() || !flags_.count(t->second)) {
      std::string known;
      for (const auto& [k, unused] : it->second.forward) known += (known.empty() ? "" : ", ") + k;
      return Status(Code::kInvalidArgument,
                    "--" + name + ": \"" + key + "\" is not a flag kite takes (it takes " + known + ")");
    }
    return Set(t->second, eq == std::string::npos ? "" : value.substr(eq + 1), seen_list);
  }
  if (it->second.is_list && !seen_list[name]) {
    it->second.clear();
    seen_list[name] = true;
  }
  given_.insert(name);
  return it->second.set(value);
}

Status FlagSet::Parse(int argc, char** argv, const std::string& default_config) {
  std::string config;
  std::map<std::string, bool> seen;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      help_requested_ = true;
      continue;
    }
    std::string name, value;
    bool has_value = false;
    if (arg == "-v" && flags_.count("v")) {
      name = "v";
    } else if (arg.rfind("-v=", 0) == 0 && flags_.count("v")) {
      name = "v", value = arg.substr(3), has_value = true;
    } else if (arg.rfind("--", 0) == 0) {
      name = arg.substr(2);
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
    } else {
      return Status(Code::kInvalidArgument, "unexpected argument: " + arg);
    }
    if (name == "config") {
      if (!has_value) {
        if (i + 1 >= argc) return Status(Code::kInvalidArgument, "flag needs an argument: --config");
        value = argv[++i];
      }
      config = value;
      continue;
    }
    auto it = flags_.find(name);
    if (it == flags_.end()) return Status(Code::kInvalidArgument, "unknown flag: --" + name);
    if (!has_value && !it->second.is_bool) {
      if (i + 1 >= argc) return Status(Code::kInvalidArgument, "flag needs an argument: --" + name);
      value = argv[++i];
    }
    if (auto s = Set(name, value, seen); !s.ok()) return s;
    seen[name] = true;
  }
  if (config.empty() && !default_config.empty() && std::filesystem::exists(default_config)) {
    config = default_config;
  }
  if (!config.empty()) return ApplyConfigFile(config, seen);
  return Status::Ok();
}

Status FlagSet::ApplyConfigFile(const std::string& path, const std::map<std::string, bool>& from_argv) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return Status(Code::kInvalidArgument, "config file " + path + ": " + e.what());
  }
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap()) return Status(Code::kInvalidArgument, "config file " + path + ": expected a map of flag names");
  std::map<std::string, bool> seen;
  for (const auto& kv : root) {
    std::string name = kv.first.as<std::string>();
    if (from_argv.count(name)) continue;  // the command line wins
    if (!flags_.count(name)) return Status(Code::kInvalidArgument, "config file " + path + ": unknown key " + name);
    std::vector<std::string> values;
    if (kv.second.IsSequence()) {
      for (const auto& v : kv.second) values.push_back(v.as<std::string>());
    } else if (kv.second.IsScalar()) {
      values.push_back(kv.second.as<std::string>());
    } else {
      return Status(Code::kInvalidArgument, "config file " + path + ": key " + name + " must be a scalar or list");
    }
    for (const auto& v : values) {
      if (auto s = Set(name, v, seen); !s.ok()) return Status(s.code(), "config file " + path + ": " + s.message());
    }
  }
  return Status::Ok();
}

std::string FlagSet::Usage() const {
  std::ostringstream os;
  os << "Usage: " << program_ << " [flags]\n\nFlags:\n";
  os << "      --config string   YAML file with flag names as keys\n";
  for (const auto& [name, f] : flags_) {
    os << "      --" << name << (f.is_bool ? "" : f.is_list ? " strings" : " string") << "\n          "
       << f.help;
    if (!f.default_text.empty() && !f.is_list) os << " (default \"" << f.default_text << "\")";
    os << "\n";
  }
  return os.str();
}

}  // namespace kite
