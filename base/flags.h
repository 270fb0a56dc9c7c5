// Command-line flags with a config-file equivalent, as k3s does with config.yaml.
//
// A component declares its flags on a FlagSet, bound to fields of its options struct. Parse()
// reads argv (`--name=value`, `--name value`, `--bool-flag`, `-v N`), and `--config FILE` (a YAML
// map whose keys are the flag names without dashes; list flags take YAML sequences). Values given
// on the command line win over the file. Unknown flags and keys are errors.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"

namespace kite {

class FlagSet {
 public:
  explicit FlagSet(std::string program) : program_(std::move(program)) {}

  void String(const std::string& name, std::string* target, const std::string& help);
  void Int(const std::string& name, int64_t* target, const std::string& help);
  void Bool(const std::string& name, bool* target, const std::string& help);
  // Go-style durations: "300ms", "30s", "5m", "1h30m"; a bare number means seconds.
  void Duration(const std::string& name, int64_t* target_ms, const std::string& help);
  void StringList(const std::string& name, std::vector<std::string>* target, const std::string& help);
  // A repeatable flag whose values are "name=value" (a leading "--" on name allowed) and set
  // another flag of this set: `targets` maps the names it accepts to the flags they set (k3s's
  // --kubelet-arg). A list flag set this way drops its default, as on the command line; any
  // other name is an error listing what is accepted. The target parses the value as it would
  // on the command line (a list target splits it at commas).
  void Forward(const std::string& name, std::map<std::string, std::string> targets, const std::string& help);

  // Parses argv, then the config file named by --config (if any; `default_config` is read when it
  // exists and no --config was given). Returns an error for unknown flags or bad values.
  // Sets `help_requested` instead of failing on -h/--help.
  Status Parse(int argc, char** argv, const std::string& default_config = "");
  bool help_requested() const { return help_requested_; }
  // Whether Parse() met `name` on the command line, in the config file or through a Forward
  // flag: a default that another source may fill (an agent's --cluster-dns from its server's
  // settings) is taken only when the user gave none.
  bool Given(const std::string& name) const { return given_.count(name) > 0; }
  std::string Usage() const;

 private:
  struct Flag {
    std::string help;
    std::string default_text;
    bool is_bool = false;
    bool is_list = false;
    std::function<Status(const std::string&)> set;
    std::function<void()> clear;  // for lists: file/argv replace, not append to, the default
    std::map<std::string, std::string> forward;  // Forward(): accepted name → flag it sets
  };
  Status Set(const std::string& name, const std::string& value, std::map<std::string, bool>& seen_list);
  Status ApplyConfigFile(const std::string& path, const std::map<std::string, bool>& from_argv);

  std::string program_;
  std::map<std::string, Flag> flags_;
  std::set<std::string> given_;
  bool help_requested_ = false;
};

// Parses a Go-style duration into milliseconds.
Result<int64_t> ParseDurationMs(const std::string& text);

}  // namespace kite
