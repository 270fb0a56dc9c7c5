#!/usr/bin/env bash
# The workload controllers (DaemonSet, StatefulSet, Job, ttl-after-finished, CronJob) inside a
# real kite-server, driven and checked with the real kubectl. No scheduler or kubelet runs:
# Nodes are plain API objects, and the test plays the kubelet by patching pod status (Running
# and Ready, Succeeded, Failed) through the status subresource.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
KITE_ARGS=()
start_kite_api
M=$TEST_TMP/manifests
mkdir -p "$M"

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
# pod_status POD PHASE [READY]: what a kubelet would report.
pod_status() {
  local cond=""
  [[ ${3:-} == ready ]] && cond=",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"$(now)\"}]"
  k patch pod "$1" --subresource=status --type=merge -p "{\"status\":{\"phase\":\"$2\"$cond}}" >/dev/null
}
# wait_until SECONDS CMD...: polls CMD until it succeeds; false on timeout.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  while ((SECONDS < deadline)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.3
  done
  return 1
}
# names SELECTOR: the names of matching pods, sorted, space-separated.
names() { k get pods -l "$1" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | sort | xargs; }
# Plays the kubelet for pods matching SELECTOR: every Pending one becomes Running and Ready.
autoready() {
  while true; do
    for p in $(k get pods -l "$1" -o jsonpath='{range .items[?(@.status.phase=="Pending")]}{.metadata.name}{" "}{end}' 2>/dev/null); do
      pod_status "$p" Running ready 2>/dev/null || true
    done
    sleep 0.3
  done
}
has() { [[ $("$@" 2>/dev/null) == *[![:space:]]* ]]; }  # CMD prints something
count_is() { local want=$1; shift; [[ $("$@" 2>/dev/null | wc -w) -eq $want ]]; }

# ---------------------------------------------------------------- CronJob (started first: it
# may wait for a minute boundary at the end)
cat >"$M/cronjob.yaml" <<'YAML'
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "*/1 * * * *"
  suspend: true
  jobTemplate:
    metadata:
      labels: {run: tick}
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: c, image: busybox}]
YAML
k apply -f "$M/cronjob.yaml" >/dev/null
# Pretend the last run was three hours ago: the controller owes one run now (the most
# recent missed minute) and warns about the 180 it will not make up.
k patch cronjob tick --subresource=status --type=merge -p "{\"status\":{\"lastScheduleTime\":\"$(date -u -d '-3 hours' +%Y-%m-%dT%H:%M:00Z)\"}}" >/dev/null
k patch cronjob tick --type=merge -p '{"spec":{"suspend":false}}' >/dev/null
cronjobs() { k get jobs -l run=tick -o jsonpath='{range .items[*]}{.metadata.name}{" "}{end}'; }
wait_until 20 has cronjobs || true
MINUTE=$(($(date -u +%s) / 60))
expect "cronjob: a missed run starts a Job named after its minute" "^tick-($MINUTE|$((MINUTE - 1)))\b" -- cronjobs
FIRST=$(cronjobs | awk '{print $1}')
expect "cronjob: the Job carries the scheduled-timestamp annotation" '^20[0-9-]+T[0-9:]+Z$' -- \
  k get job "$FIRST" -o jsonpath='{.metadata.annotations.batch\.kubernetes\.io/cronjob-scheduled-timestamp}'
expect "cronjob: status.active and lastScheduleTime" "^$FIRST 20" -- \
  k get cronjob tick -o jsonpath='{.status.active[0].name} {.status.lastScheduleTime}'
expect "cronjob: more than 100 missed runs are reported" 'TooManyMissedTimes.*too many missed start times' -- \
  k get events --field-selector involvedObject.name=tick -o custom-columns=R:.reason,M:.message
expect "cronjob: SuccessfulCreate event" "SuccessfulCreate +Created job $FIRST" -- \
  k get events --field-selector involvedObject.name=tick -o custom-columns=R:.reason,M:.message

# Two more whose first Job keeps running: at the next minute Replace swaps it, Forbid waits.
for policy in Replace Forbid; do
  lower=$(tr '[:upper:]' '[:lower:]' <<<"$policy")
  sed -e "s/name: tick/name: $lower/" -e "s/run: tick/run: $lower/" -e "s/  suspend: true/  suspend: true\n  concurrencyPolicy: $policy/" \
    "$M/cronjob.yaml" >"$M/$lower.yaml"
  k apply -f "$M/$lower.yaml" >/dev/null
  k patch cronjob "$lower" --subresource=status --type=merge -p "{\"status\":{\"lastScheduleTime\":\"$(date -u -d '-10 minutes' +%Y-%m-%dT%H:%M:00Z)\"}}" >/dev/null
  k patch cronjob "$lower" --type=merge -p '{"spec":{"suspend":false}}' >/dev/null
done

cat >"$M/badzone.yaml" <<'YAML'
apiVersion: batch/v1
kind: CronJob
metadata: {name: mars}
spec:
  schedule: "0 * * * *"
  timeZone: Mars/Olympus_Mons
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: c, image: busybox}]
YAML
k apply -f "$M/badzone.yaml" >/dev/null
zone_event() { k get events --field-selector involvedObject.name=mars,reason=UnknownTimeZone -o jsonpath='{.items[*].message}'; }
wait_until 10 has zone_event || true
expect "cronjob: an unknown time zone is a warning event" 'invalid timeZone: "Mars/Olympus_Mons": unknown time zone Mars/Olympus_Mons' -- zone_event

# ---------------------------------------------------------------- DaemonSet
cat >"$M/nodes.yaml" <<'YAML'
apiVersion: v1
kind: Node
metadata: {name: edge-1, labels: {role: edge}}
---
apiVersion: v1
kind: Node
metadata: {name: edge-gpu, labels: {role: edge}}
spec:
  taints: [{key: gpu, value: "true", effect: NoSchedule}]
---
apiVersion: v1
kind: Node
metadata: {name: core-1, labels: {role: core}}
---
apiVersion: v1
kind: Node
metadata: {name: edge-cordoned, labels: {role: edge}}
spec:
  unschedulable: true
  taints: [{key: node.kubernetes.io/unschedulable, effect: NoSchedule}]
YAML
k apply -f "$M/nodes.yaml" >/dev/null
cat >"$M/ds.yaml" <<'YAML'
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {role: edge}
      containers: [{name: agent, image: busybox:1}]
YAML
k apply -f "$M/ds.yaml" >/dev/null
ds_nodes() {
  k get pods -l app=agent -o jsonpath='{range .items[*]}{.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]}{"\n"}{end}' | sort | xargs
}
wait_until 15 count_is 2 ds_nodes || true
expect_exact "daemonset: one pod per eligible node (tainted and non-matching nodes skipped, cordoned kept)" \
  "edge-1 edge-cordoned" -- ds_nodes
expect "daemonset: pods tolerate what daemons must survive" 'node.kubernetes.io/unschedulable.*node.kubernetes.io/not-ready|node.kubernetes.io/not-ready.*node.kubernetes.io/unschedulable' -- \
  k get pods -l app=agent -o jsonpath='{.items[0].spec.tolerations}'
expect "daemonset: pods carry controller-revision-hash" '^[bcdfghjklmnpqrstvwxz2456789]+$' -- \
  k get pods -l app=agent -o jsonpath='{.items[0].metadata.labels.controller-revision-hash}'
autoready app=agent &
_BG_PIDS+=($!)
expect "daemonset: rollout status" 'daemon set "agent" successfully rolled out' -- \
  k rollout status ds/agent --timeout=30s
expect "daemonset: status counts" '^2 2 2 2 0$' -- \
  k get ds agent -o jsonpath='{.status.desiredNumberScheduled} {.status.currentNumberScheduled} {.status.numberReady} {.status.updatedNumberScheduled} {.status.numberMisscheduled}'
k set image ds/agent agent=busybox:2 >/dev/null
expect "daemonset: rolling update to a new template" 'daemon set "agent" successfully rolled out' -- \
  k rollout status ds/agent --timeout=40s
images() { k get pods -l app=agent -o jsonpath='{range .items[*]}{.spec.containers[0].image}{" "}{end}'; }
expect_exact "daemonset: every pod runs the new image" "busybox:2 busybox:2" -- images
expect "daemonset: rollout history lists the second revision" '^2 ' -- k rollout history ds/agent
revisions() { k get controllerrevisions -o name | grep -c agent-; }
expect "daemonset: two ControllerRevisions" '^2$' -- revisions
# Surge: the new pod starts beside the old one, which goes once the new one is available.
k patch ds agent --type=merge -p '{"spec":{"updateStrategy":{"rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}}}' >/dev/null
k set image ds/agent agent=busybox:3 >/dev/null
expect "daemonset: surge rolling update" 'daemon set "agent" successfully rolled out' -- \
  k rollout status ds/agent --timeout=40s
expect_exact "daemonset: every pod runs the surge-updated image" "busybox:3 busybox:3" -- images
expect "daemonset: rollout undo" 'daemonset.apps/agent rolled back' -- k rollout undo ds/agent
expect "daemonset: rollout after undo" 'daemon set "agent" successfully rolled out' -- \
  k rollout status ds/agent --timeout=40s
expect_exact "daemonset: undo brings the previous template back" "busybox:2 busybox:2" -- images
k taint nodes edge-gpu gpu- >/dev/null
wait_until 15 count_is 3 ds_nodes || true
expect_exact "daemonset: a node that loses its taint gets a pod" "edge-1 edge-cordoned edge-gpu" -- ds_nodes
k label node edge-1 role=core --overwrite >/dev/null
wait_until 15 count_is 2 ds_nodes || true
expect_exact "daemonset: a node that stops matching loses its pod" "edge-cordoned edge-gpu" -- ds_nodes

# ---------------------------------------------------------------- StatefulSet
cat >"$M/sts.yaml" <<'YAML'
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: www, image: nginx:1, volumeMounts: [{name: data, mountPath: /data}]}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
YAML
k apply -f "$M/sts.yaml" >/dev/null
wait_until 15 has names app=web || true
sleep 1  # time enough for a wrong controller to start web-1 early
expect_exact "statefulset: web-0 alone while it is not ready" "web-0" -- names app=web
pod_status web-0 Running ready
wait_until 15 count_is 2 names app=web || true
sleep 1
expect_exact "statefulset: web-1 only after web-0 is Running and Ready" "web-0 web-1" -- names app=web
pod_status web-1 Running ready
wait_until 15 count_is 3 names app=web || true
pod_status web-2 Running ready
claims() { k get pvc -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | sort | xargs; }
expect_exact "statefulset: a PVC per pod from the claim template" "data-web-0 data-web-1 data-web-2" -- claims
expect_exact "statefulset: stable identity labels, hostname and the claim as volume" "web-1 1 web-1 web data-web-1" -- \
  k get pod web-1 -o jsonpath='{.metadata.labels.statefulset\.kubernetes\.io/pod-name} {.metadata.labels.apps\.kubernetes\.io/pod-index} {.spec.hostname} {.spec.subdomain} {.spec.volumes[0].persistentVolumeClaim.claimName}'
# kubectl words it as a partitioned rollout whenever rollingUpdate.partition is set, and the
# API defaults it to 0.
expect "statefulset: rollout status" 'partitioned roll out complete: 3 new pods have been updated' -- \
  k rollout status sts/web --timeout=30s
expect "statefulset: events as upstream" 'create Claim data-web-0 Pod web-0 in StatefulSet web success' -- \
  k get events --field-selector involvedObject.name=web -o custom-columns=M:.message
autoready app=web &
_BG_PIDS+=($!)
k set image sts/web www=nginx:2 >/dev/null
expect "statefulset: rolling update to a new template" 'partitioned roll out complete: 3 new pods have been updated' -- \
  k rollout status sts/web --timeout=60s
web_images() { k get pods -l app=web -o jsonpath='{range .items[*]}{.spec.containers[0].image}{" "}{end}'; }
expect_exact "statefulset: every pod runs the new image" "nginx:2 nginx:2 nginx:2" -- web_images
order() {
  k get events --field-selector involvedObject.name=web,reason=SuccessfulDelete \
    -o jsonpath='{range .items[*]}{.metadata.resourceVersion} {.message}{"\n"}{end}' |
    sort -n | grep -o 'Pod web-[0-9]' | xargs
}
expect_exact "statefulset: updated from the highest ordinal down" "Pod web-2 Pod web-1 Pod web-0" -- order
expect "statefulset: currentRevision caught up with updateRevision" '^(web-[a-z0-9]+) \1 3 3$' -- \
  k get sts web -o jsonpath='{.status.currentRevision} {.status.updateRevision} {.status.currentReplicas} {.status.updatedReplicas}'
# Hold web-2 in Terminating with a finalizer: ordered scale-down must wait for it before web-1.
k patch pod web-2 --type=merge -p '{"metadata":{"finalizers":["kite.test/hold"]}}' >/dev/null
k scale sts web --replicas=1 >/dev/null
terminating() { [[ -n $(k get pod web-2 -o jsonpath='{.metadata.deletionTimestamp}') ]]; }
wait_until 15 terminating || true
sleep 1
expect "statefulset: scale down starts at the highest ordinal and waits for it" '^web-0 web-1 web-2$' -- names app=web
k patch pod web-2 --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
wait_until 15 count_is 1 names app=web || true
expect_exact "statefulset: then the next one goes" "web-0" -- names app=web
expect "statefulset: PVCs are retained on scale down" 'data-web-2' -- k get pvc -o name

# ---------------------------------------------------------------- Job
cat >"$M/jobs.yaml" <<'YAML'
apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  completions: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: doomed}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: idx}
spec:
  completions: 3
  parallelism: 3
  completionMode: Indexed
  ttlSecondsAfterFinished: 6   # long enough to read its status after it completes, on a busy machine
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: later}
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: slow}
spec:
  activeDeadlineSeconds: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
YAML
k apply -f "$M/jobs.yaml" >/dev/null
wait_until 15 has names job-name=pi || true
P1=$(names job-name=pi)
expect_exact "job: one pod at a time (parallelism 1), with the tracking finalizer and labels" \
  "batch.kubernetes.io/job-tracking pi pi" -- \
  k get pod "$P1" -o jsonpath='{.metadata.finalizers[0]} {.metadata.labels.batch\.kubernetes\.io/job-name} {.metadata.labels.job-name}'
expect "job: the Job has upstream's generated selector" '^\{"matchLabels":\{"batch.kubernetes.io/controller-uid":"[0-9a-f-]+"\}\}$' -- \
  k get job pi -o jsonpath='{.spec.selector}'
pod_status "$P1" Succeeded
wait_until 15 count_is 2 names job-name=pi || true
P2=$(names job-name=pi | tr ' ' '\n' | grep -v "^$P1$" || true)
[[ -n $P2 ]] && pod_status "$P2" Succeeded
expect "job: kubectl wait --for=condition=complete" 'job.batch/pi condition met' -- \
  k wait --for=condition=complete job/pi --timeout=20s
expect_exact "job: counts and the finalizers are gone" "2 CompletionsReached" -- \
  k get job pi -o jsonpath='{.status.succeeded} {.status.conditions[?(@.type=="Complete")].reason}{.metadata.finalizers}'
pi_pods() { echo "$(names job-name=pi | wc -w):$(k get pods -l job-name=pi -o jsonpath='{.items[*].metadata.finalizers}')"; }
expect_exact "job: two pods ran, neither holds the finalizer any more" "2:" -- pi_pods
expect "job: Completed event" 'Completed +Job completed' -- \
  k get events --field-selector involvedObject.name=pi -o custom-columns=R:.reason,M:.message

wait_until 15 has names job-name=doomed || true
pod_status "$(names job-name=doomed)" Failed
expect "job: backoffLimit exceeded fails the Job" 'job.batch/doomed condition met' -- \
  k wait --for=condition=failed job/doomed --timeout=20s
expect_exact "job: Failed reason and message" "BackoffLimitExceeded Job has reached the specified backoff limit 1" -- \
  k get job doomed -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason} {.status.conditions[?(@.type=="Failed")].message} {.status.failed}'

wait_until 15 count_is 3 names job-name=idx || true
indexes() {
  k get pods -l job-name=idx -o jsonpath='{range .items[*]}{.metadata.annotations.batch\.kubernetes\.io/job-completion-index} {.spec.hostname}{"\n"}{end}' | sort | xargs
}
expect_exact "job: Indexed pods carry their index and hostname" "0 idx-0 1 idx-1 2 idx-2" -- indexes
for p in $(names job-name=idx); do pod_status "$p" Succeeded; done
expect "job: an Indexed Job completes" 'job.batch/idx condition met' -- k wait --for=condition=complete job/idx --timeout=20s
expect "job: completedIndexes" '^0-2 3$' -- k get job idx -o jsonpath='{.status.completedIndexes} {.status.succeeded}'
gone_or_deleting() {
  local out
  out=$(k get job idx -o jsonpath='{.metadata.deletionTimestamp}' 2>&1) && [[ -n $out ]] && return 0
  [[ $out == *NotFound* ]]
}
wait_until 20 gone_or_deleting || true
ttl_done() { gone_or_deleting && echo ok; }
expect "job: ttlSecondsAfterFinished deletes the finished Job (ttl-after-finished)" 'ok' -- ttl_done

suspended_state() {
  echo "$(k get job later -o jsonpath='{.status.conditions[?(@.type=="Suspended")].status} {.status.conditions[?(@.type=="Suspended")].reason}') $(names job-name=later | wc -w)"
}
expect_exact "job: a suspended Job runs no pod" "True JobSuspended 0" -- suspended_state
k patch job later --type=merge -p '{"spec":{"suspend":false}}' >/dev/null
wait_until 15 has names job-name=later || true
expect "job: resuming starts its pod" '^later-[a-z0-9]+$' -- names job-name=later
expect "job: Resumed event" 'Resumed +Job resumed' -- \
  k get events --field-selector involvedObject.name=later -o custom-columns=R:.reason,M:.message

expect "job: activeDeadlineSeconds" 'job.batch/slow condition met' -- \
  k wait --for=condition=failed job/slow --timeout=20s
expect_exact "job: DeadlineExceeded, the running pod deleted and counted" \
  "DeadlineExceeded Job was active longer than specified deadline 1" -- \
  k get job slow -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason} {.status.conditions[?(@.type=="Failed")].message} {.status.failed}'

# ---------------------------------------------------------------- CronJob, continued
pod_status "$(names job-name="$FIRST")" Succeeded
saw_completed() { k get cronjob tick -o jsonpath='{.status.lastSuccessfulTime}'; }
wait_until 20 has saw_completed || true
# (A later minute's Job may be active by now; the finished one must not be.)
first_gone_from_active() {
  k get cronjob tick -o jsonpath='{.status.active[*].name}' | grep -qw "$FIRST" && return 1
  k get cronjob tick -o jsonpath='{.status.lastSuccessfulTime}'
}
expect "cronjob: a finished Job leaves status.active and sets lastSuccessfulTime" '^20' -- first_gone_from_active
expect "cronjob: SawCompletedJob event" "Saw completed job: $FIRST, condition: Complete" -- \
  k get events --field-selector involvedObject.name=tick -o custom-columns=M:.message
# The next run comes at the next minute boundary, from the controller's own timer.
two_runs() { [[ $(cronjobs | wc -w) -ge 2 ]]; }
wait_until 75 two_runs || true
# (On a slow machine the suite may span more than one minute boundary: at least two runs.)
expect "cronjob: the schedule fires again at the next minute" '^tick-[0-9]+ tick-[0-9]+ ' -- cronjobs
replace_event() { k get events --field-selector involvedObject.name=replace,reason=SuccessfulDelete -o jsonpath='{.items[*].message}'; }
# replace and forbid were unsuspended a few seconds after tick: when a minute boundary fell in
# between, their next run is a minute after tick's, so each gets a minute of its own.
wait_until 75 has replace_event || true
expect "cronjob: Replace deletes the running Job for the new one" '^Deleted job replace-[0-9]+( |$)' -- replace_event
forbid_event() { k get events --field-selector involvedObject.name=forbid,reason=JobAlreadyActive -o jsonpath='{.items[*].message}'; }
wait_until 75 has forbid_event || true
expect "cronjob: Forbid skips a run while one is active" 'Not starting job because prior execution is running and concurrency policy is Forbid' -- forbid_event
expect "cronjob: ... and starts no second Job" '^forbid-[0-9]+$' -- k get jobs -l run=forbid -o jsonpath='{.items[*].metadata.name}'

finish
