#!/usr/bin/env bash
# One-node cluster that runs real pods: kite-server with its embedded agent (its own containerd,
# runc, the CNI plugins) inside a network namespace, driven with the real kubectl. Shows: the
# node goes Ready; a 3-replica Deployment of the test image becomes 3/3 Ready with pod IPs from
# the node's podCIDR that answer HTTP; /proc is masked and read-only where upstream's kubelet
# asks the runtime to (not in a privileged pod); seccompProfile RuntimeDefault and Localhost
# filter, none by default; shareProcessNamespace and sysctls (safe ones set, unsafe ones
# SysctlForbidden); the pause process as the pod's runAsUser/runAsGroup; appArmorProfile refused where the host has no AppArmor; a killed container is restarted (restartCount 1); a killed
# containerd is restarted by the agent and the pods run on; a container past its memory limit is
# OOMKilled; a pod
# that exits 3 with restartPolicy Never is Failed with exit code 3; a failing liveness probe
# restarts its container, a failing readiness probe keeps the pod out of Ready; configMap, secret
# and downward API volumes hold the right files and a configMap edit reaches the file; an image
# from <data-dir>/agent/images/ runs with imagePullPolicy Never; a missing image shows
# ErrImagePull/ImagePullBackOff; a static pod from the manifest dir runs as a mirror pod that
# comes back when deleted and goes with its manifest; restarting kite-server leaves running
# containers alone.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
sweep_leftovers

new_netns pods
NS=$REPLY
new_node_dir pods
D=$REPLY
NODE=kite-e2e-node
IMAGE=kite.local/busybox:1.35
KC=$TEST_TMP/kubeconfig
k() { kubectl_in "$NS" "$KC" "$@"; }
start_node() {
  start_node_server
}
jp() { k get "$@"; }

start_node
eventually_eq "node Ready" 90 True jp node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
CIDR=$(k get node "$NODE" -o 'jsonpath={.spec.podCIDR}')
[[ $CIDR == 10.42.*.0/24 ]] || fail "podCIDR $CIDR not a /24 of 10.42.0.0/16"
PREFIX=${CIDR%.0/24}.
echo "ok - podCIDR $CIDR"

# --- a Deployment of the test image, 3/3 Ready, pod IPs that answer
k create deployment web --image="$IMAGE" --replicas=3 >/dev/null
eventually_eq "deployment web 3/3 ready" 120 3 jp deployment web -o 'jsonpath={.status.readyReplicas}'
IPS=$(k get pods -l app=web -o 'jsonpath={range .items[*]}{.status.podIP}{"\n"}{end}')
[[ $(grep -c "^$PREFIX" <<<"$IPS") -eq 3 ]] || fail "pod IPs not in $CIDR: $IPS"
echo "ok - pod IPs in $CIDR: $(tr '\n' ' ' <<<"$IPS")"
k get pods -o wide -l app=web | grep "$NODE" >/dev/null || fail "get pods -o wide does not show the node"
for ip in $IPS; do
  in_ns "$NS" curl -s -m 5 "http://$ip/" | grep "kite test image" >/dev/null || fail "pod $ip does not answer HTTP"
done
echo "ok - every pod answers HTTP on its IP"

# --- /proc as upstream's kubelet asks for it: the runtime's masked and read-only paths in a pod,
# none in a privileged one (containerd adds none to a container of its own accord)
POD=$(k get pods -l app=web -o 'jsonpath={.items[0].metadata.name}')
proc_mounts() { # POD: the mount points of the pod's container under /proc and /sys, with options
  k exec "$1" -- cat /proc/mounts | awk '$2 ~ "^/(proc|sys)/" {print $2, $4}'
}
MOUNTS=$(proc_mounts "$POD")
CHECKED=()
for p in /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger; do
  [[ -e $p ]] || continue  # the host's kernel is the pod's: what it lacks, runc skips
  grep -E "^$p ro(,|$)" <<<"$MOUNTS" >/dev/null || fail "$p is not read-only in pod $POD: $MOUNTS"
  CHECKED+=("$p ro")
done
for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/scsi /sys/firmware; do
  [[ -e $p ]] || continue
  grep -E "^$p " <<<"$MOUNTS" >/dev/null || fail "$p is not masked in pod $POD: $MOUNTS"
  CHECKED+=("$p masked")
done
((${#CHECKED[@]} >= 4)) || fail "too few of the paths exist on this kernel to tell: ${CHECKED[*]}"
k run privileged-proc --image="$IMAGE" --image-pull-policy=Never --restart=Never --privileged -- sleep 100000 >/dev/null
eventually_eq "privileged pod Running" 60 Running jp pod privileged-proc -o 'jsonpath={.status.phase}'
PMOUNTS=$(proc_mounts privileged-proc)
grep -E "^/proc/(sys|sysrq-trigger|kcore|keys) " <<<"$PMOUNTS" >/dev/null && fail "a privileged pod's /proc is masked: $PMOUNTS"
k delete pod privileged-proc --grace-period=0 --wait=false >/dev/null
echo "ok - /proc as upstream's kubelet asks: $(IFS=,; echo "${CHECKED[*]}"); none in a privileged pod"

# --- seccompProfile: none by default (upstream's kubelet without --seccomp-default), the
# runtime's filter for RuntimeDefault, a node's own profile for Localhost (from the kubelet's
# <data-dir>/agent/kubelet/seccomp/), the pod's profile for its containers unless they set one
seccomp_mode() { k exec "$1" -- sh -c 'grep "^Seccomp:" /proc/self/status' | awk '{print $2}'; }
[[ $(seccomp_mode "$POD") == 0 ]] || fail "a pod without seccompProfile is filtered: $(seccomp_mode "$POD")"
mkdir -p "$D/agent/kubelet/seccomp/kite-e2e"
cat >"$D/agent/kubelet/seccomp/kite-e2e/no-mkdir.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
JSON
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: seccomp}
spec:
  securityContext: {seccompProfile: {type: RuntimeDefault}}
  containers:
  - {name: default, image: $IMAGE, imagePullPolicy: Never, command: [sleep, "100000"]}
  - name: local
    image: $IMAGE
    imagePullPolicy: Never
    command: [sleep, "100000"]
    securityContext: {seccompProfile: {type: Localhost, localhostProfile: kite-e2e/no-mkdir.json}}
YAML
eventually_eq "seccomp pod Running" 60 Running jp pod seccomp -o 'jsonpath={.status.phase}'
[[ $(k exec seccomp -c default -- sh -c 'grep "^Seccomp:" /proc/self/status' | awk '{print $2}') == 2 ]] ||
  fail "RuntimeDefault from the pod: no filter in the container"
k exec seccomp -c default -- mkdir /tmp/allowed || fail "RuntimeDefault refused mkdir"
if k exec seccomp -c local -- mkdir /tmp/refused 2>/dev/null; then fail "the Localhost profile did not refuse mkdir"; fi
k delete pod seccomp --grace-period=0 --wait=false >/dev/null
k run seccomp-missing --image="$IMAGE" --image-pull-policy=Never --restart=Never \
  --overrides='{"spec":{"securityContext":{"seccompProfile":{"type":"Localhost","localhostProfile":"kite-e2e/none.json"}}}}' \
  -- sleep 100000 >/dev/null
missing_profile_shown() { k get events --field-selector involvedObject.name=seccomp-missing | grep -E 'FailedCreatePodSandBox.*none.json' >/dev/null; }
eventually "a missing Localhost profile is an error on the pod" 60 missing_profile_shown
k delete pod seccomp-missing --grace-period=0 --wait=false >/dev/null
echo "ok - seccompProfile: unfiltered by default, RuntimeDefault filters, a Localhost profile refuses mkdir, a missing one fails the pod"

# --- shareProcessNamespace and sysctls: one PID namespace for the pod (the pause process is PID
# 1 for both containers), a safe sysctl set in the pod's namespaces, an unsafe one refused
# (SysctlForbidden, as upstream's kubelet admits pods)
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: shared}
spec:
  shareProcessNamespace: true
  securityContext:
    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "42"}]
    appArmorProfile: {type: Unconfined}  # admitted with or without AppArmor on the host
    runAsUser: 1000
    runAsGroup: 3000
    fsGroup: 2000
    supplementalGroups: [4000]
  containers:
  - {name: a, image: $IMAGE, imagePullPolicy: Never, command: [sleep, "100001"]}
  - {name: b, image: $IMAGE, imagePullPolicy: Never, command: [sleep, "100002"], securityContext: {runAsUser: 0}}
YAML
eventually_eq "shared pod Running" 60 Running jp pod shared -o 'jsonpath={.status.phase}'
k exec shared -c b -- cat /proc/1/cmdline | grep pause >/dev/null || fail "shareProcessNamespace: PID 1 of container b is not the pause process"
k exec shared -c b -- ps | grep 'sleep 100001' >/dev/null || fail "shareProcessNamespace: container b does not see container a's process"
# The pause process runs as the pod's user and group, as upstream's kubelet configures the
# sandbox (the supplemental groups are sent too; containerd 1.6 gives the sandbox none of them).
PAUSE_IDS=$(k exec shared -c b -- awk '/^(Uid|Gid):/ {print $1, $2, $3, $4}' /proc/1/status | tr '\n' ' ')
[[ $PAUSE_IDS =~ ^Uid:\ 1000\ 1000\ 1000\ Gid:\ 3000\ 3000\ 3000 ]] || fail "the pause process's ids: '$PAUSE_IDS'"
expect_eq "a container runs as the pod's runAsUser" 1000 k exec shared -c a -- id -u
expect_eq "one with its own runAsUser as that" 0 k exec shared -c b -- id -u
expect_eq "a pod's safe sysctl is set in its network namespace" 42 k exec shared -c b -- cat /proc/sys/net/ipv4/ip_unprivileged_port_start
k delete pod shared --grace-period=0 --wait=false >/dev/null
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: unsafe-sysctl}
spec:
  securityContext:
    sysctls: [{name: net.core.somaxconn, value: "1024"}]
  containers:
  - {name: a, image: $IMAGE, imagePullPolicy: Never, command: [sleep, "100000"]}
YAML
eventually_eq "an unsafe sysctl is refused: Failed, SysctlForbidden" 60 "Failed SysctlForbidden" \
  jp pod unsafe-sysctl -o 'jsonpath={.status.phase} {.status.reason}'
k get pod unsafe-sysctl -o 'jsonpath={.status.message}' | grep 'forbidden sysctl: "net.core.somaxconn" not allowlisted' >/dev/null ||
  fail "unsafe sysctl: message $(k get pod unsafe-sysctl -o 'jsonpath={.status.message}')"
k delete pod unsafe-sysctl --grace-period=0 --wait=false >/dev/null
echo "ok - shareProcessNamespace shares PID 1; a safe sysctl is set; an unsafe one is SysctlForbidden"

# --- appArmorProfile: a pod asking for a profile (here RuntimeDefault) on a host without AppArmor
# is refused (Failed, reason AppArmor, upstream's message); with AppArmor on it runs
if [[ -d /sys/kernel/security/apparmor && $(cat /sys/module/apparmor/parameters/enabled 2>/dev/null) == Y* ]]; then
  APPARMOR=1
else
  APPARMOR=0
fi
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: apparmor}
spec:
  containers:
  - name: a
    image: $IMAGE
    imagePullPolicy: Never
    command: [sleep, "100000"]
    securityContext: {appArmorProfile: {type: RuntimeDefault}}
YAML
if ((APPARMOR)); then
  eventually_eq "appArmorProfile RuntimeDefault runs (AppArmor on)" 60 Running jp pod apparmor -o 'jsonpath={.status.phase}'
else
  eventually_eq "appArmorProfile without AppArmor on the host: Failed, AppArmor" 60 "Failed AppArmor" \
    jp pod apparmor -o 'jsonpath={.status.phase} {.status.reason}'
  k get pod apparmor -o 'jsonpath={.status.message}' | grep 'Cannot enforce AppArmor: AppArmor is not enabled on the host' >/dev/null ||
    fail "apparmor: message $(k get pod apparmor -o 'jsonpath={.status.message}')"
fi
k delete pod apparmor --grace-period=0 --wait=false >/dev/null

# --- a killed container is restarted
CID=$(k get pod "$POD" -o 'jsonpath={.status.containerStatuses[0].containerID}')
SOCK=$(sed -n 's/^ *address *= *"\(.*\.sock\)"$/\1/p' "$D/agent/etc/containerd/config.toml" | head -1)
ctr --address "$SOCK" -n k8s.io tasks kill -s KILL "${CID#containerd://}" >/dev/null
eventually_eq "killed container restarted (restartCount 1)" 60 1 jp pod "$POD" -o 'jsonpath={.status.containerStatuses[0].restartCount}'
eventually_eq "restarted pod Ready again" 60 True jp pod "$POD" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'

# --- containerd killed: the agent starts it again and the pods run on
CTRD=$(pgrep -f -- "containerd --config $D/" | head -1)
kill -KILL "$CTRD"
new_containerd() { local p; p=$(pgrep -f -- "containerd --config $D/" | head -1); [[ -n $p && $p != "$CTRD" ]]; }
wait_until 60 new_containerd || fail "containerd was not restarted"
echo "ok - a killed containerd is restarted"
for ip in $IPS; do
  in_ns "$NS" curl -s -m 5 "http://$ip/" | grep "kite test image" >/dev/null || fail "pod $ip stopped answering after containerd's restart"
done
k run after-crash --image="$IMAGE" >/dev/null
eventually_eq "a new pod runs after containerd's restart" 90 Running jp pod after-crash -o 'jsonpath={.status.phase}'

# --- exit 3, restartPolicy Never
k run exit3 --image="$IMAGE" --restart=Never -- sh -c 'exit 3' >/dev/null
eventually_eq "exit 3 with restartPolicy Never: Failed" 60 Failed jp pod exit3 -o 'jsonpath={.status.phase}'
expect_eq "exit code 3" 3 jp pod exit3 -o 'jsonpath={.status.containerStatuses[0].state.terminated.exitCode}'

# --- a container past its memory limit is OOMKilled, and says so
cat >"$TEST_TMP/oom.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: oom}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: $IMAGE
    command: [sh, -c, 'tail /dev/zero']
    resources: {limits: {memory: 32Mi}}
YAML
k apply -f "$TEST_TMP/oom.yaml" >/dev/null
eventually_eq "over its memory limit: OOMKilled" 90 "Failed OOMKilled 137" \
  jp pod oom -o 'jsonpath={.status.phase} {.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.exitCode}'

# --- probes
cat >"$TEST_TMP/probes.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  containers:
  - name: c
    image: $IMAGE
    command: [sh, -c, 'touch /tmp/healthy; sleep 3; rm /tmp/healthy; sleep 3600']
    livenessProbe: {exec: {command: [cat, /tmp/healthy]}, periodSeconds: 1, failureThreshold: 2}
---
apiVersion: v1
kind: Pod
metadata: {name: unready}
spec:
  containers:
  - name: c
    image: $IMAGE
    readinessProbe: {httpGet: {path: /missing.html, port: 80}, periodSeconds: 1}
YAML
k apply -f "$TEST_TMP/probes.yaml" >/dev/null
live_restarted() { [[ $(k get pod live -o 'jsonpath={.status.containerStatuses[0].restartCount}') -ge 1 ]]; }
eventually "failing liveness probe restarts the container" 90 live_restarted
eventually_eq "failing readiness probe: running" 60 true jp pod unready -o 'jsonpath={.status.containerStatuses[0].started}'
expect_eq "failing readiness probe: not Ready" False jp pod unready -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'

# --- volumes
k create configmap cfg --from-literal=greeting=hello >/dev/null
k create secret generic sec --from-literal=password=s3cret >/dev/null
cat >"$TEST_TMP/vols.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: vols, labels: {tier: e2e}}
spec:
  containers:
  - name: c
    image: $IMAGE
    command: [httpd, -f, -p, "80", -h, /]
    volumeMounts:
    - {name: cfg, mountPath: /cfg}
    - {name: sec, mountPath: /sec}
    - {name: info, mountPath: /info}
  volumes:
  - {name: cfg, configMap: {name: cfg}}
  - {name: sec, secret: {secretName: sec}}
  - name: info
    downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
YAML
k apply -f "$TEST_TMP/vols.yaml" >/dev/null
eventually_eq "volumes pod Running" 60 Running jp pod vols -o 'jsonpath={.status.phase}'
# The files, read over HTTP from the pod (its httpd serves /): kubectl exec is the next issue's.
VOLS_IP=$(k get pod vols -o 'jsonpath={.status.podIP}')
file() { in_ns "$NS" curl -s -m 5 "http://$VOLS_IP$1"; }
expect_eq "configMap volume" hello file /cfg/greeting
expect_eq "secret volume" s3cret file /sec/password
expect_eq "downwardAPI volume" 'tier="e2e"' file /info/labels
k patch configmap cfg --type=merge -p '{"data":{"greeting":"edited"}}' >/dev/null
eventually_eq "a configMap edit reaches the file" 90 edited file /cfg/greeting

# --- images: Never from the images dir; a missing image
k run never --image="$IMAGE" --image-pull-policy=Never >/dev/null
eventually_eq "imagePullPolicy Never runs the imported image" 60 Running jp pod never -o 'jsonpath={.status.phase}'
k run missing --image=kite.local/does-not-exist:1 >/dev/null
pull_failed() {
  local r
  r=$(k get pod missing -o 'jsonpath={.status.containerStatuses[0].state.waiting.reason}')
  [[ $r == ErrImagePull || $r == ImagePullBackOff ]]
}
eventually "missing image: ErrImagePull or ImagePullBackOff" 90 pull_failed

# --- static pods: a manifest in <data-dir>/agent/pod-manifests/ runs, shown as a mirror pod
cat >"$D/agent/pod-manifests/static-web.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: static-web, namespace: kube-system}
spec:
  containers: [{name: c, image: $IMAGE}]
YAML
MIRROR=static-web-$NODE
eventually_eq "a static pod runs, mirrored as $MIRROR" 90 "Running file" \
  jp pod -n kube-system "$MIRROR" -o 'jsonpath={.status.phase} {.metadata.annotations.kubernetes\.io/config\.source}'
k delete pod -n kube-system "$MIRROR" --wait=false >/dev/null
mirror_back() { [[ $(k get pod -n kube-system "$MIRROR" -o 'jsonpath={.status.phase}/{.metadata.deletionTimestamp}') == Running/ ]]; }
eventually "a deleted mirror pod comes back" 90 mirror_back
rm "$D/agent/pod-manifests/static-web.yaml"
mirror_gone() { ! k get pod -n kube-system "$MIRROR" >/dev/null 2>&1; }
eventually "a removed manifest's pod goes" 90 mirror_gone

# --- a restart of kite-server leaves running containers alone
BEFORE=$(k get pods -l app=web -o 'jsonpath={range .items[*]}{.status.containerStatuses[0].containerID}{"\n"}{end}' | sort)
kill -TERM "$SERVER_PID"
# A pod still in its termination grace period holds the agent's stop until it ends (up to 30 s).
for _ in $(seq 1 600); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$SERVER_PID" 2>/dev/null || fail "kite-server did not stop within 60 s of SIGTERM"
FIRST_RUN_LINES=$(wc -l < "$TEST_TMP/kite.log")
start_node
eventually_eq "node Ready after the restart" 90 True jp node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
eventually_eq "deployment web still 3/3 ready" 60 3 jp deployment web -o 'jsonpath={.status.readyReplicas}'
AFTER=$(k get pods -l app=web -o 'jsonpath={range .items[*]}{.status.containerStatuses[0].containerID}{"\n"}{end}' | sort)
[[ $BEFORE == "$AFTER" ]] || fail "containers changed over a restart: before $BEFORE, after $AFTER"
echo "ok - restarting kite-server left the running containers alone"
# The pod network's addresses (bridge, VXLAN device) appeared after the first start; they are no
# SANs, so the restart keeps every certificate.
if tail -n +"$((FIRST_RUN_LINES + 1))" "$TEST_TMP/kite.log" | grep "certs: issued" >/dev/null; then
  fail "the restart issued certificates again: $(tail -n +"$((FIRST_RUN_LINES + 1))" "$TEST_TMP/kite.log" | grep "certs: issued")"
fi
echo "ok - the restart kept the certificates"
