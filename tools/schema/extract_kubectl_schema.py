#!/usr/bin/env python3
"""Writes api/schema/builtin.schema: the facts kite needs about built-in Kubernetes API types.

Authoring tool, not part of the build. The facts (type and field names, protobuf field numbers,
value types, strategic-merge-patch strategies and merge keys) are read from a kubectl 1.32
binary: Go programs built with gogo-protobuf carry each generated.proto as a gzipped
FileDescriptorProto, and Go keeps struct tags (json:"..." protobuf:"..." patchStrategy:"..."
patchMergeKey:"...") for reflection. We decode both and print them in our own format.

Usage: extract_kubectl_schema.py /path/to/kubectl > api/schema/builtin.schema

What the binary cannot tell us is added from a short hand-kept list below (which Go fields are
pointers, where a protobuf zero is a real value).
"""
import re
import sys
import zlib

# Packages we serve (plus what they reference, pulled in transitively).
ROOTS = [
    "k8s.io.api.core.v1", "k8s.io.api.apps.v1", "k8s.io.api.batch.v1", "k8s.io.api.autoscaling.v1",
    "k8s.io.api.autoscaling.v2", "k8s.io.api.coordination.v1", "k8s.io.api.discovery.v1",
    "k8s.io.api.events.v1", "k8s.io.api.policy.v1", "k8s.io.api.rbac.v1", "k8s.io.api.networking.v1",
    "k8s.io.api.node.v1", "k8s.io.api.admissionregistration.v1",
    "k8s.io.api.certificates.v1",
    "k8s.io.api.storage.v1", "k8s.io.api.scheduling.v1", "k8s.io.api.authentication.v1",
    "k8s.io.api.authorization.v1", "k8s.io.apimachinery.pkg.apis.meta.v1",
]

SPECIAL = {
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "quantity",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "intorstring",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time": "time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime": "microtime",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Duration": "duration",
    "k8s.io.apimachinery.pkg.runtime.RawExtension": "rawextension",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1": "fieldsv1",
}
# Go named slices that protobuf wraps in a message ({1: repeated items}); JSON is the bare array.
WRAPPERS = {"k8s.io.api.authentication.v1.ExtraValue", "k8s.io.api.authorization.v1.ExtraValue",
            "k8s.io.api.certificates.v1.ExtraValue",
            "k8s.io.apimachinery.pkg.apis.meta.v1.Verbs"}

# Go pointer scalars whose zero is meaningful (default differs from zero). Gogo emits non-pointer
# scalars even when zero, so the decoder drops zeros except for these.
POINTERS = {
    ("CertificateSigningRequestSpec", "expirationSeconds"), ("ValidatingWebhook", "timeoutSeconds"),
    ("MutatingWebhook", "timeoutSeconds"),
    ("DeploymentSpec", "replicas"), ("ReplicaSetSpec", "replicas"), ("StatefulSetSpec", "replicas"),
    ("ReplicationControllerSpec", "replicas"), ("DeploymentSpec", "revisionHistoryLimit"),
    ("DeploymentSpec", "progressDeadlineSeconds"), ("DaemonSetSpec", "revisionHistoryLimit"),
    ("StatefulSetSpec", "revisionHistoryLimit"), ("JobSpec", "parallelism"), ("JobSpec", "completions"),
    ("JobSpec", "backoffLimit"), ("JobSpec", "activeDeadlineSeconds"), ("JobSpec", "ttlSecondsAfterFinished"),
    ("JobSpec", "suspend"), ("JobSpec", "manualSelector"), ("CronJobSpec", "suspend"),
    ("CronJobSpec", "startingDeadlineSeconds"), ("CronJobSpec", "successfulJobsHistoryLimit"),
    ("CronJobSpec", "failedJobsHistoryLimit"), ("PodSpec", "terminationGracePeriodSeconds"),
    ("PodSpec", "activeDeadlineSeconds"), ("PodSpec", "automountServiceAccountToken"),
    ("PodSpec", "enableServiceLinks"), ("PodSpec", "shareProcessNamespace"), ("PodSpec", "hostUsers"),
    ("ServiceAccount", "automountServiceAccountToken"), ("Secret", "immutable"), ("ConfigMap", "immutable"),
    ("HorizontalPodAutoscalerSpec", "minReplicas"), ("ObjectMeta", "deletionGracePeriodSeconds"),
    ("DeleteOptions", "gracePeriodSeconds"), ("OwnerReference", "controller"),
    ("OwnerReference", "blockOwnerDeletion"), ("SecurityContext", "runAsUser"),
    ("SecurityContext", "runAsNonRoot"), ("SecurityContext", "privileged"),
    ("SecurityContext", "readOnlyRootFilesystem"), ("SecurityContext", "allowPrivilegeEscalation"),
    ("PodSecurityContext", "runAsUser"), ("PodSecurityContext", "runAsGroup"), ("PodSecurityContext", "fsGroup"),
    ("PodSecurityContext", "runAsNonRoot"), ("PriorityClass", "preemptionPolicy"),
    ("PodSpec", "priority"), ("ServiceSpec", "allocateLoadBalancerNodePorts"),
    ("TokenRequestSpec", "expirationSeconds"), ("SecretKeySelector", "optional"),
    ("ConfigMapKeySelector", "optional"), ("SecretVolumeSource", "optional"), ("ConfigMapVolumeSource", "optional"),
    ("SecretEnvSource", "optional"), ("ConfigMapEnvSource", "optional"), ("SecretProjection", "optional"),
    ("ConfigMapProjection", "optional"),
    ("LeaseSpec", "leaseDurationSeconds"), ("LeaseSpec", "leaseTransitions"),
    ("StorageClass", "allowVolumeExpansion"),
}

SCALARS = {9: "string", 12: "bytes", 8: "bool", 5: "int32", 3: "int64", 1: "double", 2: "double",
           13: "int32", 4: "int64", 17: "int32", 18: "int64"}


def varint(b, i):
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def fields(b):
    i, out = 0, []
    while i < len(b):
        k, i = varint(b, i)
        f, t = k >> 3, k & 7
        if t == 0:
            v, i = varint(b, i)
        elif t == 2:
            n, i = varint(b, i)
            v = b[i:i + n]
            i += n
        elif t == 1:
            v, i = b[i:i + 8], i + 8
        elif t == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("wire type")
        out.append((f, v))
    return out


def one(fs, n, default=None):
    for f, v in fs:
        if f == n:
            return v
    return default


def descriptors(data):
    files = {}
    for m in re.finditer(b"\x1f\x8b\x08\x00\x00\x00\x00\x00", data):
        try:
            raw = zlib.decompressobj(16 + 15).decompress(data[m.start():m.start() + 4000000])
            fs = fields(raw)
            name = one(fs, 1).decode()
        except Exception:
            continue
        if name.endswith("generated.proto") and name.startswith("k8s.io/"):
            files[name] = fs
    return files


def tags(data):
    """(proto name, number) -> list of tag dicts, from Go struct tags kept in the binary."""
    keys = ["protobuf_key", "protobuf_val", "patchStrategy", "patchMergeKey", "listType", "listMapKey",
            "protobuf", "json"]
    out = {}
    for m in re.finditer(rb'(?:[A-Za-z_]+:"[^"\x00]*" ?)+', data):
        s = m.group(0).decode("latin-1")
        if 'protobuf:"' not in s:
            continue
        d = {}
        for k, v in re.findall(r'([A-Za-z_]+):"([^"]*)"', s):
            for key in keys:
                if k.endswith(key):
                    d.setdefault(key, v)
                    break
        pb = d.get("protobuf", "").split(",")
        if len(pb) < 3:
            continue
        # Keyed by wire type, number and name: Go tags add casttype=/castkey= and sometimes say
        # "opt" for repeated fields, so those parts cannot be matched.
        name = next((x for x in pb if x.startswith("name=")), None)
        out.setdefault(f"{pb[0]},{pb[1]},{name}", []).append(d)
    return out


WIRE = {9: "bytes", 12: "bytes", 11: "bytes", 8: "varint", 5: "varint", 3: "varint", 13: "varint",
        4: "varint", 1: "fixed64", 2: "fixed32", 17: "zigzag32", 18: "zigzag64"}
LABEL = {1: "opt", 2: "req", 3: "rep"}

# Where one protobuf tag is shared by fields with different patch strategies, the struct tags
# alone cannot say which is which; these were looked up in k8s.io/api's types.go.
PATCH_OVERRIDES = {
    ("ServiceSpec", "ports"): ("merge", "port"),
    ("NetworkPolicyIngressRule", "ports"): ("", ""),
    ("NetworkPolicyEgressRule", "ports"): ("", ""),
    ("PodDisruptionBudgetSpec", "selector"): ("replace", ""),
    ("CertificateSigningRequestStatus", "conditions"): ("", ""),
}
# Ambiguous tags whose answer is the same wherever we serve them.
PATCH_DEFAULTS = {"conditions": ("merge", "type"), "items": ("", ""), "selector": ("", ""), "ports": ("", "")}


def rename(proto_name):
    """k8s.io.api.core.v1.Pod -> io.k8s.api.core.v1.Pod (OpenAPI's definition names)."""
    return "io.k8s." + proto_name[len("k8s.io."):]


def main():
    data = open(sys.argv[1], "rb").read()
    files = descriptors(data)
    tagmap = tags(data)
    messages = {}  # full name -> (package, DescriptorProto fields)
    for fs in files.values():
        pkg = one(fs, 2, b"").decode()
        for f, v in fs:
            if f == 4:
                d = fields(v)
                messages[pkg + "." + one(d, 1).decode()] = (pkg, d)

    def map_entry(msg_fields, type_name):
        short = type_name.rsplit(".", 1)[1]
        for f, v in msg_fields:
            if f == 3:
                n = fields(v)
                if one(n, 1).decode() == short:
                    return n
        return None

    def value_of(fd, owner):
        t = one(fd, 5)
        if t == 11:
            tn = one(fd, 6).decode().lstrip(".")
            if tn in SPECIAL:
                return SPECIAL[tn], None
            return None, tn
        return SCALARS[t], None

    wanted, order, queue = set(), [], []
    for name in sorted(messages):
        pkg = messages[name][0]
        if pkg in ROOTS:
            queue.append(name)
    lines, unknown_tags = [], []
    while queue:
        name = queue.pop(0)
        if name in wanted or name in SPECIAL:
            continue
        wanted.add(name)
        order.append(name)
    # Second pass: resolve fields (and pull in referenced types outside ROOTS).
    i = 0
    out = {}
    while i < len(order):
        name = order[i]
        i += 1
        pkg, d = messages[name]
        short = name.rsplit(".", 1)[1]
        flist = []
        for f, v in d:
            if f != 2:
                continue
            fd = fields(v)
            pname = one(fd, 1).decode()
            num = one(fd, 3)
            label = one(fd, 4)
            repeated = label == 3
            is_map = False
            scalar, ref = value_of(fd, name)
            if ref and ref.startswith(name + ".") and ref.endswith("Entry"):
                entry = map_entry(d, ref)
                val = [fields(x) for ff, x in entry if ff == 2][1]
                scalar, ref = value_of(val, name)
                is_map, repeated = True, False
            if ref and ref not in wanted:
                wanted.add(ref)
                order.append(ref)
            ptag = f"{WIRE[one(fd, 5)]},{num},name={pname}"
            cands = tagmap.get(ptag, [])
            inline = any(c.get("json", "").startswith(",inline") for c in cands) or \
                (short, pname) == ("EphemeralContainer", "ephemeralContainerCommon")
            jsons = {c.get("json", "").split(",")[0] for c in cands if c.get("json")}
            jname = pname
            if len(jsons) == 1:
                jname = jsons.pop() or pname
            elif pname in jsons:
                jname = pname
            strat = {(c.get("patchStrategy", ""), c.get("patchMergeKey", "")) for c in cands
                     if c.get("json", "").split(",")[0] == jname}
            if (short, jname) in PATCH_OVERRIDES:
                strat = {PATCH_OVERRIDES[(short, jname)]}
            elif len(strat) > 1 and jname in PATCH_DEFAULTS:
                strat = {PATCH_DEFAULTS[jname]}
            patch = ""
            if len(strat) == 1:
                s, k = strat.pop()
                patch = (" patch=" + s if s else "") + (" key=" + k if k else "")
            elif len(strat) > 1:
                unknown_tags.append((name, jname, sorted(strat)))
            if inline:
                jname = pname
                patch += " inline"
            elif not cands and not scalar:
                unknown_tags.append((name, jname, "no struct tag"))
            vt = scalar if scalar else ref
            shape = "map " if is_map else ("list " if repeated else "")
            ptr = " ptr" if (short, jname) in POINTERS else ""
            flist.append((num, f"  {jname} {num} {shape}{vt}{ptr}{patch}"))
        out[name] = flist
    print("# Built-in Kubernetes API types (v1.32) as kite's schema registry reads them.")
    print("# Generated by tools/schema/extract_kubectl_schema.py; see tools/schema/README.md.")
    print("# type <name> [wrapper]   then one field per line:")
    print("#   <json name> <protobuf number> [list|map] <value type> [ptr] [patch=<strategy>] [key=<merge key>] [inline]")
    print("# inline: a Go embedded struct; protobuf nests it under this number, JSON flattens its fields.")
    print("# value type: string bytes bool int32 int64 double quantity intorstring time microtime duration")
    print("#             rawextension fieldsv1 json, or a type name.")
    for name in order:
        oname = rename(name)
        wrap = " wrapper" if name in WRAPPERS else ""
        print(f"type {oname}{wrap}")
        for _, line in sorted(out[name]):
            print(re.sub(r" k8s\.io\.([A-Za-z0-9_.]+)", lambda m: " " + rename("k8s.io." + m.group(1)), line))
    for name, jname, s in unknown_tags:
        print(f"# ambiguous patch tags for {name}.{jname}: {s}", file=sys.stderr)


if __name__ == "__main__":
    main()
