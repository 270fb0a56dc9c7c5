#!/usr/bin/env bash
# The scheduler inside kite-server, driven with the real kubectl: Nodes are made by hand (no
# kubelet: their status is written through the status subresource), pods are created and their
# placement, Pending reasons, conditions and events are read back as a user would.
# Pods use terminationGracePeriodSeconds: 0, so deleting them (no kubelet to finish a graceful
# deletion) frees their node at once.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
# The scheduler alone: the hand-made nodes have no kubelet heartbeat, so the node lifecycle
# controller would taint them unreachable once their start-up grace period ran out.
KITE_ARGS=(--disable-controller-manager)
start_kite_api
M=$TEST_TMP/manifests
mkdir -p "$M"

# node NAME ZONE [EXTRA_LABELS_YAML] — a Node with 2 CPUs, 4Gi and 110 pods allocatable.
node() {
  local name=$1 zone=$2 extra=${3:-}
  cat >"$M/$name.yaml" <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $name
  labels:
    kubernetes.io/hostname: $name
    topology.kubernetes.io/zone: $zone
$extra
YAML
  k apply -f "$M/$name.yaml" >/dev/null
  k patch node "$name" --subresource=status --type=merge \
    -p '{"status":{"capacity":{"cpu":"2","memory":"4Gi","pods":"110"},"allocatable":{"cpu":"2","memory":"4Gi","pods":"110"}}}' >/dev/null
}

# pod NAME [SPEC_YAML_LINES] [LABELS_YAML_LINES] — a pod requesting 100m CPU unless the spec
# says otherwise (SPEC lines are indented by 2 under spec:, LABELS by 4 under labels:).
pod() {
  local name=$1 spec=${2:-} labels=${3:-}
  cat >"$M/pod-$name.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $name
  labels:
    test: scheduler
$labels
spec:
  terminationGracePeriodSeconds: 0
$spec
YAML
  grep -q '^  containers:' "$M/pod-$name.yaml" || cat >>"$M/pod-$name.yaml" <<YAML
  containers:
  - name: c
    image: busybox
    resources: {requests: {cpu: 100m}}
YAML
  k create -f "$M/pod-$name.yaml" >/dev/null
}

node_of() { k get pod "$1" -o 'jsonpath={.spec.nodeName}'; }

# wait_scheduled NAME: until the pod has a node (prints it), at most 20 s.
wait_scheduled() {
  local i n
  for i in $(seq 1 200); do
    n=$(node_of "$1" 2>/dev/null || true)
    [[ -n $n ]] && { echo "$n"; return 0; }
    sleep 0.1
  done
  return 1
}

# wait_unschedulable NAME: until the PodScheduled condition says Unschedulable; prints its message.
wait_unschedulable() {
  local i r
  for i in $(seq 1 200); do
    r=$(k get pod "$1" -o 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}' 2>/dev/null || true)
    if [[ $r == Unschedulable ]]; then
      k get pod "$1" -o 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}'
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# wait_event NAME REASON: until an event with that reason exists for the object (any object
# when NAME is empty); prints the messages.
wait_event() {
  local i out sel="reason=$2"
  [[ -n $1 ]] && sel="involvedObject.name=$1,$sel"
  for i in $(seq 1 200); do
    out=$(k get events --field-selector "$sel" -o 'jsonpath={.items[*].message}' 2>/dev/null || true)
    [[ -n $out ]] && { echo "$out"; return 0; }
    sleep 0.1
  done
  return 1
}

# wait_bound SELECTOR N: until N pods of the selector have a node (at most 20 s).
wait_bound() {
  local i
  for i in $(seq 1 200); do
    (( $(k get pods -l "$1" -o 'jsonpath={range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep -c . || true) >= $2 )) && return 0
    sleep 0.1
  done
  return 1
}

cleanup_pods() { k delete pod -l test=scheduler --grace-period=0 --force --wait=true >/dev/null 2>&1 || true; }

# --- no nodes yet
pod early
expect "no nodes: FailedScheduling event" '^no nodes available to schedule pods$' -- wait_event early FailedScheduling
expect_exact "no nodes: condition reason" "SchedulerError" -- \
  k get pod early -o 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}'

node node-1 zone-a "    disk: ssd"
node node-2 zone-b
node node-3 zone-b

# --- a plain pod, waiting since before the nodes existed, lands once they appear
expect "pending pod scheduled when nodes appear" '^node-[123]$' -- wait_scheduled early
expect "Scheduled event" "Successfully assigned default/early to node-[123]" -- \
  k get events --field-selector involvedObject.name=early,reason=Scheduled -o 'jsonpath={.items[*].message}'
expect "describe shows the Scheduled event from default-scheduler" 'Normal +Scheduled .*default-scheduler +Successfully assigned default/early' -- \
  k describe pod early
expect_exact "PodScheduled condition True" "True" -- \
  k get pod early -o 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}'

# --- nodeSelector
pod ssd "  nodeSelector: {disk: ssd}"
expect_exact "nodeSelector picks the labelled node" "node-1" -- wait_scheduled ssd
pod nowhere "  nodeSelector: {disk: nvme}"
expect_exact "nodeSelector matching no node" \
  "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling." -- \
  wait_unschedulable nowhere
expect_exact "pending pod stays Pending" "Pending" -- k get pod nowhere -o 'jsonpath={.status.phase}'
# Labelling a node is an event that retries it.
k label node node-3 disk=nvme >/dev/null
expect_exact "labelling a node schedules the waiting pod" "node-3" -- wait_scheduled nowhere
cleanup_pods

# --- taints and tolerations
k taint node node-2 dedicated=gpu:NoSchedule >/dev/null
pod untolerated "  nodeSelector: {kubernetes.io/hostname: node-2}"
expect_exact "untolerated taint" \
  "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling." -- \
  wait_unschedulable untolerated
pod tolerant "  nodeSelector: {kubernetes.io/hostname: node-2}
  tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]"
expect_exact "toleration lets the pod onto the tainted node" "node-2" -- wait_scheduled tolerant
for i in 1 2 3 4 5 6; do pod "spread-$i"; done
bad=0
for i in 1 2 3 4 5 6; do [[ $(wait_scheduled "spread-$i") == node-2 ]] && bad=1; done
expect_exact "pods without the toleration avoid the tainted node" "0" -- echo "$bad"
k taint node node-2 dedicated- >/dev/null
expect_exact "removing the taint schedules the waiting pod" "node-2" -- wait_scheduled untolerated
cleanup_pods

# --- cordon
k cordon node-1 >/dev/null
k cordon node-3 >/dev/null
for i in 1 2 3 4; do pod "c-$i"; done
placements=$(for i in 1 2 3 4; do wait_scheduled "c-$i"; done | sort -u | tr '\n' ' ')
expect_exact "cordoned nodes get no new pods" "node-2" -- echo "${placements% }"
k cordon node-2 >/dev/null
pod cordoned
expect_exact "every node cordoned" \
  "0/3 nodes are available: 3 node(s) were unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling." -- \
  wait_unschedulable cordoned
k uncordon node-3 >/dev/null
expect_exact "uncordon schedules the waiting pod" "node-3" -- wait_scheduled cordoned
k uncordon node-1 >/dev/null
k uncordon node-2 >/dev/null
cleanup_pods

# --- insufficient resources
pod big "  containers:
  - name: c
    image: busybox
    resources: {requests: {cpu: '3'}}"
expect_exact "insufficient cpu" \
  "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling." -- \
  wait_unschedulable big
expect "describe shows FailedScheduling" 'Warning +FailedScheduling .*default-scheduler +0/3 nodes are available: 3 Insufficient cpu\.' -- \
  k describe pod big
expect "get events shows FailedScheduling" 'Warning +FailedScheduling +pod/big +0/3 nodes are available: 3 Insufficient cpu\.' -- \
  k get events --field-selector involvedObject.name=big
for n in 1 2 3; do
  pod "fill-$n" "  nodeSelector: {kubernetes.io/hostname: node-$n}
  containers:
  - name: c
    image: busybox
    resources: {requests: {cpu: 1500m}}"
  wait_scheduled "fill-$n" >/dev/null
done
pod medium "  containers:
  - name: c
    image: busybox
    resources: {requests: {cpu: 1, memory: 5Gi}}"
expect_exact "several insufficient resources" \
  "0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling." -- \
  wait_unschedulable medium
pod half "  containers:
  - name: c
    image: busybox
    resources: {requests: {cpu: 1}}"
expect_exact "capacity taken by bound pods" \
  "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod." -- \
  wait_unschedulable half
k delete pod fill-2 --grace-period=0 --force >/dev/null 2>&1
expect_exact "a deleted pod frees room for the waiting one" "node-2" -- wait_scheduled half
cleanup_pods

# --- required anti-affinity spreads replicas one per node
anti="  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: kubernetes.io/hostname"
for i in 1 2 3 4; do pod "web-$i" "$anti" "    app: web"; done
wait_bound app=web 3 || true
sleep 0.5  # a fourth binding, if the scheduler wrongly made one, shows up too
scheduled=$(k get pods -l app=web -o 'jsonpath={range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep -c . || true)
distinct=$(k get pods -l app=web -o 'jsonpath={range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep . | sort -u | wc -l)
expect_exact "anti-affinity: three pods on three nodes" "3 3" -- echo "$scheduled $distinct"
pending=$(k get pods -l app=web -o 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{"\n"}{end}' | awk 'NF == 1 {print $1}')
expect_exact "anti-affinity: the fourth waits" \
  "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod." -- \
  wait_unschedulable "$pending"
cleanup_pods

# --- topology spread, DoNotSchedule: zone-a has one node, zone-b two
spread="  topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: DoNotSchedule
    labelSelector: {matchLabels: {app: zonal}}"
for i in 1 2 3 4 5 6; do
  pod "zonal-$i" "$spread" "    app: zonal"
  wait_scheduled "zonal-$i" >/dev/null
done
zone_a=$(k get pods -l app=zonal -o 'jsonpath={range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep -c '^node-1$' || true)
expect_exact "topology spread: zone-a holds half of the pods" "3" -- echo "$zone_a"
k cordon node-1 >/dev/null
pod zonal-7 "$spread" "    app: zonal"
z7=$(wait_scheduled zonal-7 || true)
expect "topology spread: zone-b may run one more than zone-a" '^node-[23]$' -- echo "$z7"
pod zonal-8 "$spread" "    app: zonal"
expect_exact "topology spread: skew would exceed maxSkew" \
  "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match pod topology spread constraints. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod." -- \
  wait_unschedulable zonal-8
k uncordon node-1 >/dev/null
expect_exact "topology spread: uncordoned zone-a takes it" "node-1" -- wait_scheduled zonal-8
cleanup_pods

# --- host ports
ports="  nodeSelector: {kubernetes.io/hostname: node-1}
  containers:
  - name: c
    image: busybox
    ports: [{containerPort: 80, hostPort: 8080}]"
pod port-1 "$ports"
expect_exact "first host port user" "node-1" -- wait_scheduled port-1
pod port-2 "$ports"
expect_exact "host port conflict" \
  "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling." -- \
  wait_unschedulable port-2
k delete pod port-1 --grace-period=0 --force >/dev/null 2>&1
expect_exact "port freed: the waiting pod gets it" "node-1" -- wait_scheduled port-2
cleanup_pods

# --- preemption by a higher PriorityClass
cat >"$M/classes.yaml" <<'YAML'
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: low}
value: 10
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high-polite}
value: 1000
preemptionPolicy: Never
YAML
k apply -f "$M/classes.yaml" >/dev/null
on_node1_cpu() {
  echo "  priorityClassName: $1
  nodeSelector: {kubernetes.io/hostname: node-1}
  containers:
  - name: c
    image: busybox
    resources: {requests: {cpu: $2}}"
}
pod victim-1 "$(on_node1_cpu low 800m)"
pod victim-2 "$(on_node1_cpu low 800m)"
wait_scheduled victim-1 >/dev/null
wait_scheduled victim-2 >/dev/null
pod polite "$(on_node1_cpu high-polite 1)"
expect_exact "preemptionPolicy Never does not preempt" \
  "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. preemption: not eligible due to preemptionPolicy=Never." -- \
  wait_unschedulable polite
k delete pod polite --grace-period=0 --force >/dev/null 2>&1
pod important "$(on_node1_cpu high 1)"
expect_exact "the higher-priority pod lands on the node" "node-1" -- wait_scheduled important
remaining=$(k get pods victim-1 victim-2 --ignore-not-found -o name | wc -l)
expect_exact "exactly one victim was preempted" "1" -- echo "$remaining"
expect "Preempted event on the victim" '^Preempted by pod .* on node node-1$' -- wait_event '' Preempted
cleanup_pods

# --- Priority admission: the class's value and policy are written into the pod
pod admitted "  priorityClassName: high-polite"
expect_exact "spec.priority and preemptionPolicy from the PriorityClass" "1000 Never" -- \
  k get pod admitted -o 'jsonpath={.spec.priority} {.spec.preemptionPolicy}'
pod plain
expect_exact "no class and no global default: priority 0, PreemptLowerPriority" "0 PreemptLowerPriority" -- \
  k get pod plain -o 'jsonpath={.spec.priority} {.spec.preemptionPolicy}'
expect_exact "the system classes exist" "2000001000 2000000000" -- \
  k get priorityclass system-node-critical system-cluster-critical -o 'jsonpath={.items[*].value}'
cat >"$M/default-class.yaml" <<'YAML'
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: everyday}
value: 5
globalDefault: true
YAML
k apply -f "$M/default-class.yaml" >/dev/null
pod defaulted
expect_exact "the globalDefault class is recorded with its value" "everyday 5" -- \
  k get pod defaulted -o 'jsonpath={.spec.priorityClassName} {.spec.priority}'
k delete priorityclass everyday >/dev/null
expect_fail "an unknown class is refused" \
  '^Error from server \(Forbidden\): error when creating ".*": pods "ghost" is forbidden: no PriorityClass with name nope was found$' -- \
  pod ghost "  priorityClassName: nope"
expect_fail "a priority that disagrees with the class is refused" \
  'pods "liar" is forbidden: the integer value of priority \(7\) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name' -- \
  pod liar "  priorityClassName: high
  priority: 7"
expect_exact "refused pods were not stored" "" -- k get pods ghost liar --ignore-not-found -o name
cleanup_pods

# --- VolumeBinding: a claim's volume decides the node; missing and unbound claims wait
cat >"$M/volumes.yaml" <<'YAML'
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-node-2}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/pv-node-2}
  claimRef: {namespace: default, name: on-node-2}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [node-2]}]
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-nowhere}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/pv-nowhere}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [node-9]}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: on-node-2}
spec: {accessModes: [ReadWriteOnce], storageClassName: "", volumeName: pv-node-2, resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: nowhere}
spec: {accessModes: [ReadWriteOnce], storageClassName: "", volumeName: pv-nowhere, resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: unbound}
spec: {accessModes: [ReadWriteOnce], storageClassName: "", resources: {requests: {storage: 1Gi}}}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: later}
provisioner: example.com/later
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: delayed}
spec: {accessModes: [ReadWriteOnce], storageClassName: later, resources: {requests: {storage: 1Gi}}}
YAML
k create -f "$M/volumes.yaml" >/dev/null
claim() { echo "  volumes: [{name: data, persistentVolumeClaim: {claimName: $1}}]"; }
pod vol-a "$(claim on-node-2)"
expect_exact "a bound volume's node affinity picks the node" "node-2" -- wait_scheduled vol-a
pod vol-b "$(claim nowhere)"
expect_exact "no node matches the volume" \
  "0/3 nodes are available: 3 node(s) had volume node affinity conflict. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling." -- \
  wait_unschedulable vol-b
pod vol-c "$(claim missing)"
expect "a missing claim" '^0/3 nodes are available: persistentvolumeclaim "missing" not found\.' -- wait_unschedulable vol-c
pod vol-d "$(claim unbound)"
expect "an unbound immediate claim" '^0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims\.' -- \
  wait_unschedulable vol-d
cat >"$M/missing.yaml" <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: missing}
spec: {accessModes: [ReadWriteOnce], storageClassName: "", volumeName: pv-node-2, resources: {requests: {storage: 1Gi}}}
YAML
k create -f "$M/missing.yaml" >/dev/null
expect_exact "the claim appears: the waiting pod is placed" "node-2" -- wait_scheduled vol-c
pod vol-e "$(claim delayed)"
N=$(wait_scheduled vol-e)
selected_node() {
  local i v
  for i in $(seq 1 100); do
    v=$(k get pvc delayed -o 'jsonpath={.metadata.annotations.volume\.kubernetes\.io/selected-node}')
    [[ -n $v ]] && { echo "$v"; return 0; }
    sleep 0.1
  done
}
expect_exact "WaitForFirstConsumer: the claim gets the chosen node" "$N" -- selected_node
cleanup_pods
k delete -f "$M/volumes.yaml" -f "$M/missing.yaml" --wait=false >/dev/null 2>&1 || true

# --- pods for another scheduler are left alone
pod other "  schedulerName: my-scheduler"
sleep 1
expect_exact "pods of other schedulers stay unassigned" "" -- node_of other
cleanup_pods

# --- kubectl get componentstatuses: what this server runs (k3s's answer on SQLite: these two)
quiet() { k "$@" 2>/dev/null; }  # without the deprecation warning kubectl prints on stderr
expect "get cs: the scheduler Healthy" '^scheduler +Healthy +ok' -- k get cs
expect "--disable-controller-manager: get cs says Unhealthy, in upstream's probe words" \
  '^controller-manager +Unhealthy +Get "https://127.0.0.1:10257/healthz": dial tcp 127.0.0.1:10257: connect: connection refused' -- k get cs
expect "... with upstream's deprecation warning" 'Warning: v1 ComponentStatus is deprecated in v1.19\+' -- k get componentstatuses
expect_exact "get one: its Healthy condition" "True ok" -- quiet get cs scheduler -o 'jsonpath={.conditions[0].status} {.conditions[0].message}'
expect_exact "a field selector on metadata.name" "controller-manager" -- \
  quiet get cs --field-selector metadata.name=controller-manager -o 'jsonpath={.items[*].metadata.name}'
expect_exact "a label selector: none has labels" "" -- quiet get cs -l tier=control-plane -o 'jsonpath={.items[*].metadata.name}'
expect_fail "an unknown one: upstream's plain 500" 'Error from server: Component not found: etcd-0' -- k get cs etcd-0
expect_fail "read-only" 'MethodNotAllowed|method not allowed|not supported' -- k delete cs scheduler

# --- leader election and --disable-scheduler
expect "the scheduler holds its lease" '^.+_[0-9a-f]+$' -- \
  k get lease -n kube-system kube-scheduler -o 'jsonpath={.spec.holderIdentity}'
rm -f "$TEST_TMP/kubeconfig"
KITE_ARGS=(--disable-controller-manager --disable-scheduler)
start_kite_api kite-without-scheduler
node node-1 zone-a
pod unscheduled
sleep 2
expect_exact "--disable-scheduler: pods stay unassigned" "" -- node_of unscheduled
expect_fail "--disable-scheduler: no scheduler lease" 'NotFound|not found' -- k get lease -n kube-system kube-scheduler
expect "--disable-scheduler: get cs says Unhealthy" \
  '^scheduler +Unhealthy +Get "https://127.0.0.1:10259/healthz": dial tcp 127.0.0.1:10259: connect: connection refused' -- k get cs

finish
