#include "agent/kubelet/eviction/thresholds.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "agent/kubelet/node_info.h"
#include "api/quantity.h"
#include "base/flags.h"

namespace kite::kubelet::eviction {

namespace {

const std::set<std::string>& KnownSignals() {
  static const std::set<std::string> s{kMemoryAvailable,  kNodeFsAvailable,   kNodeFsInodesFree,
                                       kImageFsAvailable, kImageFsInodesFree, kPidAvailable};
  return s;
}

std::string Bytes(int64_t v) { return api::Quantity::FromInt(v, api::Quantity::Format::kBinarySI).String(); }

// "<signal><op><value>" → (signal, value); `op` is "<" for thresholds and "=" for the others.
Result<std::pair<std::string, std::string>> SplitItem(const std::string& flag, const std::string& item, char op) {
  size_t at = item.find(op);
  if (at == std::string::npos || at == 0 || at + 1 == item.size()) {
    return Status(Code::kInvalidArgument, "--" + flag + ": \"" + item + "\" is not <signal>" + op + "<value>");
  }
  std::string signal = item.substr(0, at);
  if (!KnownSignals().contains(signal)) {
    return Status(Code::kInvalidArgument, "--" + flag + ": unknown eviction signal \"" + signal + "\"");
  }
  return std::pair<std::string, std::string>{signal, item.substr(at + 1)};
}

// "10%" → 0.10; a quantity → bytes (or a count); errors name the flag.
Status ParseAmount(const std::string& flag, const std::string& signal, const std::string& text, int64_t* amount,
                   double* percentage) {
  if (!text.empty() && text.back() == '%') {
    double p = -1;
    try {
      size_t used = 0;
      p = std::stod(text.substr(0, text.size() - 1), &used);
      if (used != text.size() - 1) p = -1;
    } catch (const std::exception&) {
    }
    if (!(p >= 0 && p <= 100)) {
      return Status(Code::kInvalidArgument, "--" + flag + ": " + signal + ": \"" + text + "\" is not a percentage");
    }
    *percentage = p / 100.0;
    return Status::Ok();
  }
  auto q = api::Quantity::Parse(text);
  if (!q.ok() || q->Value() < 0) {
    return Status(Code::kInvalidArgument, "--" + flag + ": " + signal + ": \"" + text + "\" is not a quantity");
  }
  *amount = q->Value();
  return Status::Ok();
}

Threshold* Find(std::vector<Threshold>& ts, const std::string& signal, bool soft) {
  for (auto& t : ts) {
    if (t.signal == signal && t.soft == soft) return &t;
  }
  return nullptr;
}

}  // namespace

int64_t Threshold::Amount(int64_t capacity) const {
  if (percentage < 0) return quantity;
  return static_cast<int64_t>(std::llround(static_cast<double>(capacity) * percentage));
}

std::string Threshold::Text() const {
  if (percentage >= 0) {
    std::ostringstream o;
    o << percentage * 100 << "%";
    return o.str();
  }
  return signal == kPidAvailable || signal == kNodeFsInodesFree || signal == kImageFsInodesFree ? std::to_string(quantity)
                                                                                                : Bytes(quantity);
}

Result<std::vector<Threshold>> ParseThresholds(const ThresholdFlags& flags) {
  std::vector<Threshold> out;
  auto add = [&out](const std::string& flag, const std::vector<std::string>& items, bool soft) -> Status {
    for (const auto& item : items) {
      if (item.empty()) continue;
      auto kv = SplitItem(flag, item, '<');
      if (!kv.ok()) return kv.status();
      Threshold t;
      t.signal = kv->first;
      t.soft = soft;
      if (Status s = ParseAmount(flag, t.signal, kv->second, &t.quantity, &t.percentage); !s.ok()) return s;
      if (Find(out, t.signal, soft)) {
        return Status(Code::kInvalidArgument, "--" + flag + ": " + t.signal + " given twice");
      }
      out.push_back(std::move(t));
    }
    return Status::Ok();
  };
  static const std::vector<std::string> kDefaults{"memory.available<100Mi", "nodefs.available<10%",
                                                  "nodefs.inodesFree<5%", "imagefs.available<15%"};
  if (Status s = add("eviction-hard", flags.hard_set ? flags.hard : kDefaults, false); !s.ok()) return s;
  if (Status s = add("eviction-soft", flags.soft, true); !s.ok()) return s;
  for (const auto& item : flags.soft_grace_period) {
    if (item.empty()) continue;
    auto kv = SplitItem("eviction-soft-grace-period", item, '=');
    if (!kv.ok()) return kv.status();
    Threshold* t = Find(out, kv->first, true);
    if (!t) {
      return Status(Code::kInvalidArgument,
                    "--eviction-soft-grace-period: " + kv->first + " has no --eviction-soft threshold");
    }
    auto ms = ParseDurationMs(kv->second);
    if (!ms.ok() || *ms < 0) {
      return Status(Code::kInvalidArgument, "--eviction-soft-grace-period: " + kv->first + ": \"" + kv->second +
                                                "\" is not a duration");
    }
    t->grace_period = std::chrono::seconds(*ms / 1000);
  }
  for (const auto& t : out) {
    if (t.soft && t.grace_period.count() == 0 &&
        std::none_of(flags.soft_grace_period.begin(), flags.soft_grace_period.end(),
                     [&t](const std::string& i) { return i.rfind(t.signal + "=", 0) == 0; })) {
      return Status(Code::kInvalidArgument, "--eviction-soft: " + t.signal + " needs a --eviction-soft-grace-period");
    }
  }
  for (const auto& item : flags.minimum_reclaim) {
    if (item.empty()) continue;
    auto kv = SplitItem("eviction-minimum-reclaim", item, '=');
    if (!kv.ok()) return kv.status();
    int64_t amount = 0;
    double pct = -1;
    if (Status s = ParseAmount("eviction-minimum-reclaim", kv->first, kv->second, &amount, &pct); !s.ok()) return s;
    for (auto& t : out) {
      if (t.signal != kv->first) continue;
      t.min_reclaim = pct < 0 ? amount : 0;
      t.min_reclaim_percentage = pct < 0 ? 0 : pct;
    }
  }
  return out;
}

std::optional<Observation> MemoryFromMeminfo(const std::string& meminfo) {
  auto total = ParseMeminfo(meminfo, "MemTotal");
  if (!total) return std::nullopt;
  // Upstream: capacity − working set, the working set being usage − inactive file pages.
  const int64_t free = ParseMeminfo(meminfo, "MemFree").value_or(0);
  const int64_t inactive_file = ParseMeminfo(meminfo, "Inactive(file)").value_or(0);
  return Observation{std::min(*total, free + inactive_file), *total};
}

Observations Observe(const std::string& nodefs_dir, const std::string& imagefs_dir, const std::string& root) {
  Observations out;
  if (auto m = MemoryFromMeminfo(ReadProcFile(root, "/proc/meminfo"))) out[kMemoryAvailable] = *m;
  auto fs = [&out](const std::string& dir, const char* bytes_signal, const char* inodes_signal) {
    struct statvfs st {};
    if (dir.empty() || statvfs(dir.c_str(), &st) != 0) return;
    const auto frsize = static_cast<int64_t>(st.f_frsize);
    out[bytes_signal] = {static_cast<int64_t>(st.f_bavail) * frsize, static_cast<int64_t>(st.f_blocks) * frsize};
    if (st.f_files > 0) out[inodes_signal] = {static_cast<int64_t>(st.f_favail), static_cast<int64_t>(st.f_files)};
  };
  fs(nodefs_dir, kNodeFsAvailable, kNodeFsInodesFree);
  fs(imagefs_dir, kImageFsAvailable, kImageFsInodesFree);
  int64_t pid_max = 0;
  try {
    pid_max = std::stoll(ReadProcFile(root, "/proc/sys/kernel/pid_max"));
  } catch (const std::exception&) {
  }
  const int64_t tasks = CountProcesses(root);
  if (pid_max > 0 && tasks >= 0) out[kPidAvailable] = {std::max<int64_t>(0, pid_max - tasks), pid_max};
  return out;
}

std::string Resource(const std::string& signal) {
  if (IsMemory(signal)) return "memory";
  if (signal == kPidAvailable) return "pids";
  if (signal == kNodeFsInodesFree || signal == kImageFsInodesFree) return "inodes";
  return "ephemeral-storage";
}

bool IsMemory(const std::string& signal) { return signal == kMemoryAvailable; }
bool IsDisk(const std::string& signal) {
  return signal == kNodeFsAvailable || signal == kNodeFsInodesFree || signal == kImageFsAvailable ||
         signal == kImageFsInodesFree;
}

std::vector<PodUsage> Rank(std::vector<PodUsage> pods) {
  std::erase_if(pods, [](const PodUsage& p) { return p.critical; });
  std::stable_sort(pods.begin(), pods.end(), [](const PodUsage& a, const PodUsage& b) {
    const bool ea = a.usage > a.request, eb = b.usage > b.request;
    if (ea != eb) return ea;
    if (a.priority != b.priority) return a.priority < b.priority;
    return a.usage - a.request > b.usage - b.request;
  });
  return pods;
}

std::string Message(const Threshold& t, const Observation& o, const std::string& container, int64_t container_usage,
                    int64_t container_request) {
  const std::string resource = Resource(t.signal);
  const bool bytes = resource == "memory" || resource == "ephemeral-storage";
  auto fmt = [bytes](int64_t v) { return bytes ? Bytes(v) : std::to_string(v); };
  std::string msg = "The node was low on resource: " + resource + ". Threshold quantity: " +
                    (t.percentage >= 0 ? fmt(t.Amount(o.capacity)) : t.Text()) + ", available: " + fmt(o.available) +
                    ". ";
  if (!container.empty()) {
    msg += "Container " + container + " was using " + fmt(container_usage) + ", request is " + fmt(container_request) +
           ", has larger consumption of " + resource + ". ";
  }
  return msg;
}

}  // namespace kite::kubelet::eviction
