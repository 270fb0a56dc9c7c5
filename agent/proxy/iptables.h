// The proxy's hands on the system: iptables-restore / iptables-save / iptables of the backend
// the host uses, and the conntrack tool. Everything runs through an `Exec` so tests can record
// the calls instead.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace kite::proxy {

// Runs argv (argv[0] searched in PATH) with `input` on its standard input. Result: its standard
// output when it exited 0; else an error whose message has its standard error (or how it ended).
using Exec = std::function<Result<std::string>(const std::vector<std::string>& argv, const std::string& input)>;
Result<std::string> RunCommand(const std::vector<std::string>& argv, const std::string& input);

enum class Backend { kNft, kLegacy };
const char* BackendName(Backend b);

// Which iptables the host uses, as upstream's iptables wrapper decides: the one holding the
// kubelet's KUBE-IPTABLES-HINT or KUBE-KUBELET-CANARY chain (nft first); else the one with more
// rules; nft on a tie or when neither tool answers.
Backend DetectBackend(const Exec& exec);

class Iptables {
 public:
  Iptables(Backend backend, Exec exec) : backend_(backend), exec_(std::move(exec)) {}
  Backend backend() const { return backend_; }

  // iptables-restore --noflush: every table in `text` committed as one batch each.
  Status Restore(const std::string& text) const;
  // iptables-save -t table.
  Result<std::string> Save(const std::string& table) const;
  // The nat table's chain names, as cheaply as the backend allows (an agent restart reads them to
  // delete the per-service chains nothing wants). nft backend: `nft list chains ip`, names only
  // (10k Services × 10, 110k chains: 2.4 s CPU, most of it the kernel's chain dump, which
  // restarts from the table's first chain for every message; iptables-nft-save, which also
  // turns each of the 320k rules back into text: 11.8 s); iptables-nft-save when nft is missing.
  // Legacy: iptables-legacy-save (the kernel hands over the whole table either way).
  Result<std::vector<std::string>> NatChains() const;
  // Creates the chain when missing (iptables -N).
  Status EnsureChain(const std::string& table, const std::string& chain) const;
  // A rule in a built-in chain that jumps to one of ours; `match` ends with the comment, which
  // identifies the rule.
  struct Jump {
    std::string table, chain, target;
    std::vector<std::string> match;
  };
  // The jumps from the built-in chains into the proxy's (PREROUTING/OUTPUT → KUBE-SERVICES, …):
  // each looked for in its chain's listing and inserted first (-I) when missing.
  Status EnsureJumps() const;
  // The same for any jumps; `first`: each must also be its chain's first rule (moved there if
  // another was inserted above it since), for a chain that must see packets before others accept
  // them (the network policies').
  Status EnsureJumps(const std::vector<Jump>& jumps, bool first = false) const;
  // Deletes the jump (every copy of it); none there is no error.
  Status RemoveJump(const Jump& jump) const;

 private:
  std::string Tool(const char* suffix) const;
  Backend backend_;
  Exec exec_;
};

// The nat table's chains (":NAME" lines) of an iptables-save dump.
std::vector<std::string> ChainsOf(const std::string& save);
// The chains of `table ip <table>` in an `nft list chains ip` listing.
std::vector<std::string> ChainsOfNftListing(const std::string& listing, const std::string& table);

}  // namespace kite::proxy
