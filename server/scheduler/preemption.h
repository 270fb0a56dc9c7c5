// DefaultPreemption (upstream's PostFilter plugin): when a pod fits nowhere, find a node where
// evicting lower-priority pods makes it fit, with the fewest and least important victims.
//
// - Not eligible: preemptionPolicy Never ("not eligible due to preemptionPolicy=Never."), or a
//   victim of its earlier preemption still terminating on its nominated node ("not eligible due
//   to a terminating pod on the nominated node.").
// - Candidates: nodes whose filter failure was Unschedulable (not Unresolvable), tried from a
//   random offset until max(10% of them, 100) candidates (at least one without PDB violations)
//   are found. On each: remove every lower-priority pod; if the pod still does not fit, that
//   status is the node's; else re-add ("reprieve") victims in order of importance (priority,
//   then earlier start), PDB-violating ones first, keeping those that still let the pod fit.
// - Choice (upstream's pickOneNodeForPreemption): fewest PDB violations, lowest highest victim
//   priority, smallest sum of priorities, fewest victims, latest start of the highest-priority
//   victims, first found.
// - Without a candidate the message is a FitError of its own, every node not evaluated counted
//   as "Preemption is not helpful for scheduling".
// PodDisruptionBudgets count as upstream: status.disruptionsAllowed, minus victims matching.
#pragma once

#include <random>
#include <set>
#include <string>
#include <vector>

#include "server/scheduler/algorithm.h"

namespace kite::scheduler {

struct DisruptionBudget {
  std::string ns;
  api::LabelSelector selector = api::LabelSelector::Nothing();
  int64_t disruptions_allowed = 0;
  std::set<std::string> disrupted_pods;  // status.disruptedPods (names)
};
DisruptionBudget ParseDisruptionBudget(const boost::json::object& pdb);

struct PreemptionResult {
  bool eligible = false;
  std::string node;                  // the nominated node; "" when preemption cannot help
  std::vector<PodInfoPtr> victims;   // to delete
  std::vector<PodInfoPtr> lower_nominated;  // lower-priority pods nominated to `node`: clear
  std::string message;               // "preemption: …" when no node was found (else "")
  bool clear_nomination = false;     // set the preemptor's nominatedNodeName to ""
};

// `state` is the failed cycle's state (for the filters); `diag` its diagnosis.
PreemptionResult Preempt(const Cache& cache, const PodInfo& pod, CycleState& state, const Diagnosis& diag,
                         const std::vector<DisruptionBudget>& pdbs, const NominatedPods& nominated,
                         std::mt19937_64& rng);

// Upstream's MoreImportantPod: higher priority, then the earlier start.
bool MoreImportantPod(const PodInfo& a, const PodInfo& b);

}  // namespace kite::scheduler
