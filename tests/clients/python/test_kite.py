"""kite-server driven by the official Python client (Debian's python3-kubernetes), unchanged.

Run by tests/clients/python.sh, which starts a kite-server and passes its admin kubeconfig in
KUBECONFIG. Each test uses its own namespace. The `test_issue16_*` cases are the upstream
semantics the client relies on (one per finding of issue 16); the rest is everyday use:
CRUD over core, apps, batch and a custom resource, every patch type, server-side apply,
paging, selectors, watches, and the errors as the library raises them.
"""
import base64
import json
import os
import sys
import threading
import time
import unittest
import uuid

import kubernetes
from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException

config.load_kube_config(config_file=os.environ["KUBECONFIG"])
API = client.ApiClient()
CORE = client.CoreV1Api(API)
APPS = client.AppsV1Api(API)
BATCH = client.BatchV1Api(API)
EXT = client.ApiextensionsV1Api(API)
CUSTOM = client.CustomObjectsApi(API)
EVENTS = client.EventsV1Api(API)
COORD = client.CoordinationV1Api(API)
DYN = dynamic.DynamicClient(API)


def eventually(check, seconds=20.0, what="condition"):
    """Calls check() until it returns a true value (returned) or `seconds` pass (AssertionError)."""
    deadline = time.time() + seconds
    last = None
    while True:
        try:
            got = check()
            if got:
                return got
        except (ApiException, AssertionError, KeyError) as e:
            last = e
        if time.time() > deadline:
            raise AssertionError("%s not reached within %ss (last: %r)" % (what, seconds, last))
        time.sleep(0.2)


def apply(api_version, kind, name, namespace, body, manager, force=None):
    """Server-side apply through the dynamic client. (22.6's client sends an apply body only when
    it is already serialized, so it goes as JSON text, which is YAML.)"""
    res = DYN.resources.get(api_version=api_version, kind=kind)
    return DYN.server_side_apply(res, body=json.dumps(body), name=name, namespace=namespace, field_manager=manager,
                                 force_conflicts=force)


def pod_spec(name="c"):
    return client.V1PodSpec(containers=[client.V1Container(name=name, image="busybox")])


def cm(name, data=None, labels=None):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels), data=data or {"k": "v"})


def deployment(name, replicas=1):
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels=labels), spec=pod_spec())))


def job(name, parallelism=1):
    spec = client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")], restart_policy="Never")
    return client.V1Job(metadata=client.V1ObjectMeta(name=name),
                        spec=client.V1JobSpec(parallelism=parallelism, completions=parallelism,
                                              template=client.V1PodTemplateSpec(spec=spec)))


class KiteTest(unittest.TestCase):
    def setUp(self):
        self.ns = "py-" + uuid.uuid4().hex[:8]
        CORE.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=self.ns)))

    def tearDown(self):
        try:
            CORE.delete_namespace(self.ns)
        except ApiException:
            pass


class Crud(KiteTest):
    def test_core_configmap_crud(self):
        created = CORE.create_namespaced_config_map(self.ns, cm("a", {"x": "1"}))
        self.assertEqual(created.data, {"x": "1"})
        self.assertTrue(created.metadata.uid)
        got = CORE.read_namespaced_config_map("a", self.ns)
        self.assertEqual(got.metadata.resource_version, created.metadata.resource_version)
        got.data["y"] = "2"
        replaced = CORE.replace_namespaced_config_map("a", self.ns, got)
        self.assertEqual(replaced.data, {"x": "1", "y": "2"})
        self.assertNotEqual(replaced.metadata.resource_version, got.metadata.resource_version)
        status = CORE.delete_namespaced_config_map("a", self.ns)
        self.assertEqual(status.status, "Success")
        with self.assertRaises(ApiException) as e:
            CORE.read_namespaced_config_map("a", self.ns)
        self.assertEqual(e.exception.status, 404)

    def test_apps_deployment_crud_and_scale(self):
        d = APPS.create_namespaced_deployment(self.ns, deployment("web"))
        self.assertEqual(d.spec.replicas, 1)
        self.assertEqual(d.spec.strategy.type, "RollingUpdate")  # defaulted
        scale = APPS.read_namespaced_deployment_scale("web", self.ns)
        self.assertEqual(scale.spec.replicas, 1)
        APPS.patch_namespaced_deployment_scale("web", self.ns, {"spec": {"replicas": 3}})
        self.assertEqual(APPS.read_namespaced_deployment("web", self.ns).spec.replicas, 3)
        # The deployment controller makes a ReplicaSet owned by the Deployment.
        rs = eventually(lambda: APPS.list_namespaced_replica_set(self.ns).items, what="a ReplicaSet")
        self.assertEqual(rs[0].metadata.owner_references[0].kind, "Deployment")
        APPS.delete_namespaced_deployment("web", self.ns)
        eventually(lambda: not APPS.list_namespaced_replica_set(self.ns).items, what="ReplicaSets collected")

    def test_batch_job_crud(self):
        j = BATCH.create_namespaced_job(self.ns, job("once"))
        self.assertIn("batch.kubernetes.io/controller-uid", j.spec.selector.match_labels)
        eventually(lambda: CORE.list_namespaced_pod(self.ns, label_selector="job-name=once").items, what="the Job's pod")

        def touch():  # the Job controller writes its status meanwhile: read again on 409, as clients do
            got = BATCH.read_namespaced_job("once", self.ns)
            got.metadata.labels = {"touched": "yes"}
            return BATCH.replace_namespaced_job("once", self.ns, got)
        self.assertEqual(eventually(touch, what="the Job replaced").metadata.labels, {"touched": "yes"})
        BATCH.delete_namespaced_job("once", self.ns, propagation_policy="Background")
        eventually(lambda: not CORE.list_namespaced_pod(self.ns, label_selector="job-name=once").items,
                   what="the Job's pods deleted")

    def test_custom_resource_crud(self):
        group = "py%s.example.com" % uuid.uuid4().hex[:6]
        crd = {
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets." + group},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "subresources": {"status": {}},
                                   "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                       "spec": {"type": "object", "properties": {
                                           "size": {"type": "integer"},
                                           "color": {"type": "string", "default": "blue"}}},
                                       "status": {"type": "object", "properties": {
                                           "ready": {"type": "boolean"}}}}}}}]}}
        EXT.create_custom_resource_definition(crd)
        try:
            eventually(lambda: any(c.type == "Established" and c.status == "True"
                                   for c in (EXT.read_custom_resource_definition("widgets." + group).status.conditions or [])),
                       what="CRD established")
            body = {"apiVersion": group + "/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}}
            w = eventually(lambda: CUSTOM.create_namespaced_custom_object(group, "v1", self.ns, "widgets", body),
                           what="custom resource served")
            self.assertEqual(w["spec"]["size"], 3)
            self.assertEqual(w["metadata"]["generation"], 1)
            got = CUSTOM.get_namespaced_custom_object(group, "v1", self.ns, "widgets", "w1")
            got["spec"]["size"] = 4
            self.assertEqual(CUSTOM.replace_namespaced_custom_object(group, "v1", self.ns, "widgets", "w1", got)
                             ["metadata"]["generation"], 2)
            st = CUSTOM.patch_namespaced_custom_object_status(group, "v1", self.ns, "widgets", "w1",
                                                               {"status": {"ready": True}})
            self.assertEqual(st["status"], {"ready": True})
            items = CUSTOM.list_namespaced_custom_object(group, "v1", self.ns, "widgets")["items"]
            self.assertEqual([i["metadata"]["name"] for i in items], ["w1"])
            CUSTOM.delete_namespaced_custom_object(group, "v1", self.ns, "widgets", "w1")
            with self.assertRaises(ApiException) as e:
                CUSTOM.get_namespaced_custom_object(group, "v1", self.ns, "widgets", "w1")
            self.assertEqual(e.exception.status, 404)
        finally:
            EXT.delete_custom_resource_definition("widgets." + group)


class Patches(KiteTest):
    def test_json_patch(self):
        CORE.create_namespaced_config_map(self.ns, cm("p", {"a": "1"}))
        out = CORE.patch_namespaced_config_map("p", self.ns, [{"op": "add", "path": "/data/b", "value": "2"},
                                                              {"op": "remove", "path": "/data/a"}])
        self.assertEqual(out.data, {"b": "2"})

    def test_strategic_merge_patch(self):
        APPS.create_namespaced_deployment(self.ns, deployment("smp"))
        patch = {"spec": {"template": {"spec": {"containers": [{"name": "side", "image": "nginx"}]}}}}
        out = APPS.patch_namespaced_deployment("smp", self.ns, patch)
        # Strategic merge: containers merge by name.
        self.assertEqual(sorted(c.name for c in out.spec.template.spec.containers), ["c", "side"])

    def test_merge_patch(self):
        APPS.create_namespaced_deployment(self.ns, deployment("mp"))
        res = DYN.resources.get(api_version="apps/v1", kind="Deployment")
        patch = {"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "nginx"}]}}}}
        out = DYN.patch(res, body=patch, name="mp", namespace=self.ns, content_type="application/merge-patch+json")
        # JSON merge patch: lists are replaced whole.
        self.assertEqual([c["name"] for c in out.spec.template.spec.containers], ["only"])

    def test_server_side_apply_and_force(self):
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"k": "a"}}
        out = apply("v1", "ConfigMap", "ssa", self.ns, body, "alice")
        self.assertEqual(out.data.k, "a")
        managers = [m.manager for m in out.metadata.managedFields]
        self.assertIn("alice", managers)
        body["data"]["k"] = "b"
        with self.assertRaises(ApiException) as e:
            apply("v1", "ConfigMap", "ssa", self.ns, body, "bob")
        self.assertEqual(e.exception.status, 409)
        out = apply("v1", "ConfigMap", "ssa", self.ns, body, "bob", force=True)
        self.assertEqual(out.data.k, "b")


class Lists(KiteTest):
    def test_paging(self):
        for i in range(7):
            CORE.create_namespaced_config_map(self.ns, cm("c%d" % i, labels={"paged": "yes"}))
        names, token, pages = [], None, 0
        while True:
            page = CORE.list_namespaced_config_map(self.ns, limit=3, _continue=token, label_selector="paged=yes")
            pages += 1
            names += [i.metadata.name for i in page.items]
            token = page.metadata._continue
            if not token:
                break
            # With a selector the server cannot count what is left (upstream omits it too).
            self.assertIsNone(page.metadata.remaining_item_count)
        self.assertEqual(pages, 3)
        self.assertEqual(sorted(names), ["c%d" % i for i in range(7)])

    def test_label_and_field_selectors(self):
        CORE.create_namespaced_config_map(self.ns, cm("red", labels={"color": "red", "tier": "a"}))
        CORE.create_namespaced_config_map(self.ns, cm("blue", labels={"color": "blue"}))
        names = lambda l: sorted(i.metadata.name for i in l.items)
        self.assertEqual(names(CORE.list_namespaced_config_map(self.ns, label_selector="color=red")), ["red"])
        self.assertEqual(names(CORE.list_namespaced_config_map(self.ns, label_selector="color in (red,blue),!tier")),
                         ["blue"])
        self.assertEqual(names(CORE.list_namespaced_config_map(self.ns, field_selector="metadata.name=blue")), ["blue"])
        with self.assertRaises(ApiException) as e:
            CORE.list_namespaced_config_map(self.ns, field_selector="data.k=v")
        self.assertEqual(e.exception.status, 400)


class Watches(KiteTest):
    def test_watch_loop_added_modified_deleted_and_selector_exit(self):
        rv = CORE.list_namespaced_config_map(self.ns).metadata.resource_version
        seen = []

        def loop():
            w = watch.Watch()
            for ev in w.stream(CORE.list_namespaced_config_map, self.ns, label_selector="watched=yes",
                               resource_version=rv, timeout_seconds=15):
                seen.append((ev["type"], ev["object"].metadata.name))
                if len(seen) >= 4:
                    w.stop()

        t = threading.Thread(target=loop)
        t.start()
        time.sleep(0.5)
        CORE.create_namespaced_config_map(self.ns, cm("w", labels={"watched": "yes"}))
        CORE.patch_namespaced_config_map("w", self.ns, {"data": {"k": "changed"}})
        CORE.patch_namespaced_config_map("w", self.ns, {"metadata": {"labels": {"watched": "no"}}})  # leaves
        CORE.create_namespaced_config_map(self.ns, cm("w2", labels={"watched": "yes"}))
        CORE.delete_namespaced_config_map("w2", self.ns)
        t.join(20)
        self.assertEqual(seen, [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w"), ("ADDED", "w2")])

    def test_watch_resume_from_resource_version(self):
        mine = {"t": "resume"}
        CORE.create_namespaced_config_map(self.ns, cm("r1", labels=mine))
        mid = CORE.create_namespaced_config_map(self.ns, cm("r2", labels=mine)).metadata.resource_version
        CORE.create_namespaced_config_map(self.ns, cm("r3", labels=mine))
        w = watch.Watch()
        got = [(e["type"], e["object"].metadata.name)
               for e in w.stream(CORE.list_namespaced_config_map, self.ns, resource_version=mid, label_selector="t=resume",
                                 timeout_seconds=2)]
        self.assertEqual(got, [("ADDED", "r3")])

    def test_watch_timeout_and_bookmark(self):
        rv = CORE.create_namespaced_config_map(self.ns, cm("b", labels={"t": "b"})).metadata.resource_version
        w = watch.Watch()
        start = time.time()
        types = [e["type"] for e in w.stream(CORE.list_namespaced_config_map, self.ns, resource_version=rv,
                                             label_selector="t=b",
                                             allow_watch_bookmarks=True, timeout_seconds=2)]
        took = time.time() - start
        self.assertEqual(types, ["BOOKMARK"])
        self.assertLess(took, 10)
        self.assertGreaterEqual(int(w.resource_version), int(rv))

    def test_watch_gone_resource_version(self):
        # A resourceVersion the server never had in its window: the client sees 410 Gone.
        w = watch.Watch()
        with self.assertRaises(ApiException) as e:
            for _ in w.stream(CORE.list_namespaced_config_map, self.ns, resource_version="1", timeout_seconds=2):
                pass
        self.assertEqual(e.exception.status, 410)


class Errors(KiteTest):
    def test_conflict_404_and_422(self):
        CORE.create_namespaced_config_map(self.ns, cm("e"))
        with self.assertRaises(ApiException) as e:
            CORE.create_namespaced_config_map(self.ns, cm("e"))
        self.assertEqual(e.exception.status, 409)
        self.assertEqual(json.loads(e.exception.body)["reason"], "AlreadyExists")
        stale = CORE.read_namespaced_config_map("e", self.ns)
        CORE.patch_namespaced_config_map("e", self.ns, {"data": {"k": "newer"}})
        with self.assertRaises(ApiException) as e:
            CORE.replace_namespaced_config_map("e", self.ns, stale)
        self.assertEqual(e.exception.status, 409)
        self.assertEqual(json.loads(e.exception.body)["reason"], "Conflict")
        with self.assertRaises(ApiException) as e:
            CORE.read_namespaced_config_map("missing", self.ns)
        self.assertEqual(e.exception.status, 404)
        with self.assertRaises(ApiException) as e:
            CORE.create_namespaced_config_map(self.ns, cm("Not_A_Name"))
        self.assertEqual(e.exception.status, 422)
        body = json.loads(e.exception.body)
        self.assertEqual(body["reason"], "Invalid")
        self.assertEqual(body["details"]["causes"][0]["field"], "metadata.name")


class Issue16(KiteTest):
    """One test per finding of issue 16."""

    def test_issue16_1_query_booleans(self):
        # The client writes booleans as "True": watch=True must stream, force=True must force.
        CORE.create_namespaced_config_map(self.ns, cm("qb", labels={"t": "qb"}))
        w = watch.Watch()
        events = [(e["type"], e["object"].metadata.name)
                  for e in w.stream(CORE.list_namespaced_config_map, self.ns, label_selector="t=qb", timeout_seconds=2)]
        self.assertEqual(events, [("ADDED", "qb")])
        # Raw spellings, as upstream's parameter codec reads them.
        for spelling, is_watch in (("True", True), ("t", True), ("1", True), ("TRUE", True), ("false", False),
                                   ("False", False), ("0", False)):
            resp = API.call_api("/api/v1/namespaces/%s/configmaps" % self.ns, "GET",
                                query_params=[("watch", spelling), ("timeoutSeconds", "1"), ("labelSelector", "t=qb")],
                                auth_settings=["BearerToken"], _preload_content=False, _return_http_data_only=True)
            first = json.loads(resp.data.decode().splitlines()[0])
            self.assertEqual("type" in first, is_watch, spelling)
            self.assertEqual(first.get("kind") == "ConfigMapList", not is_watch, spelling)
        with self.assertRaises(ApiException) as e:
            CORE.list_namespaced_config_map(self.ns, limit="ten")  # not an integer: 400, not "no limit"
        self.assertEqual(e.exception.status, 400)
        with self.assertRaises(ApiException) as e:
            CORE.delete_namespaced_config_map("qb", self.ns, grace_period_seconds="soon")  # not 0
        self.assertEqual(e.exception.status, 400)
        with self.assertRaises(ApiException) as e:
            CORE.create_namespaced_config_map(self.ns, cm("long"), field_manager="m" * 129)
        self.assertEqual(e.exception.status, 422)
        # force=True on server-side apply takes the field from its owner.
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "qb"}, "data": {"k": "forced"}}
        with self.assertRaises(ApiException) as e:
            apply("v1", "ConfigMap", "qb", self.ns, body, "other")
        self.assertEqual(e.exception.status, 409)
        out = apply("v1", "ConfigMap", "qb", self.ns, body, "other", force=True)  # sent as force=True
        self.assertEqual(out.data.k, "forced")

    def test_issue16_2_delete_retries_concurrent_writes(self):
        # Deletes without preconditions never fail with 409 because writers change the object.
        stop = threading.Event()
        errors = []

        def writer(name):
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    CORE.patch_namespaced_config_map(name, self.ns, {"data": {"n": str(i)}})
                except ApiException as e:
                    if e.status != 404:
                        errors.append(e.status)
                    time.sleep(0.01)

        conflicts = 0
        for n in range(15):
            name = "d%d" % n
            CORE.create_namespaced_config_map(self.ns, cm(name))
            threads = [threading.Thread(target=writer, args=(name,)) for _ in range(2)]
            stop.clear()
            for t in threads:
                t.start()
            time.sleep(0.05)
            try:
                CORE.delete_namespaced_config_map(name, self.ns)
            except ApiException as e:
                if e.status == 409:
                    conflicts += 1
                else:
                    raise
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(conflicts, 0)
        self.assertEqual(errors, [])
        # Likewise an update that pins no resourceVersion (unconditional) while others write.
        CORE.create_namespaced_config_map(self.ns, cm("u"))
        threads = [threading.Thread(target=writer, args=("u",)) for _ in range(2)]
        stop.clear()
        for t in threads:
            t.start()
        try:
            for i in range(20):
                CORE.replace_namespaced_config_map("u", self.ns, cm("u", {"k": "put%d" % i}))
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])
        # A precondition, by contrast, still fails the delete.
        c = CORE.create_namespaced_config_map(self.ns, cm("pre"))
        with self.assertRaises(ApiException) as e:
            CORE.delete_namespaced_config_map("pre", self.ns, body=client.V1DeleteOptions(
                preconditions=client.V1Preconditions(uid="00000000-0000-0000-0000-000000000000")))
        self.assertEqual(e.exception.status, 409)
        CORE.delete_namespaced_config_map("pre", self.ns, body=client.V1DeleteOptions(
            preconditions=client.V1Preconditions(uid=c.metadata.uid)))

    def test_issue16_3_secret_string_data(self):
        s = CORE.create_namespaced_secret(self.ns, client.V1Secret(
            metadata=client.V1ObjectMeta(name="s"), data={"a": base64.b64encode(b"old").decode()},
            string_data={"a": "new", "b": "two"}))
        self.assertIsNone(s.string_data)
        self.assertEqual(base64.b64decode(s.data["a"]), b"new")
        self.assertEqual(base64.b64decode(s.data["b"]), b"two")
        s = CORE.read_namespaced_secret("s", self.ns)
        self.assertIsNone(s.string_data)
        s.string_data = {"c": "three"}
        s = CORE.replace_namespaced_secret("s", self.ns, s)
        self.assertEqual(base64.b64decode(s.data["c"]), b"three")
        self.assertIsNone(s.string_data)
        s = CORE.patch_namespaced_secret("s", self.ns, {"stringData": {"d": "four"}})
        self.assertEqual(sorted(s.data), ["a", "b", "c", "d"])
        self.assertEqual(base64.b64decode(s.data["d"]), b"four")
        self.assertIsNone(CORE.read_namespaced_secret("s", self.ns).string_data)

    def test_issue16_4_validation(self):
        def invalid(call, *args):
            with self.assertRaises(ApiException) as e:
                call(*args)
            self.assertEqual(e.exception.status, 422, e.exception.body)
            return json.loads(e.exception.body)

        invalid(CORE.create_namespaced_secret, self.ns, client.V1Secret(
            metadata=client.V1ObjectMeta(name="tls"), type="kubernetes.io/tls",
            data={"tls.crt": base64.b64encode(b"x").decode()}))
        invalid(CORE.create_namespaced_config_map, self.ns, cm("badkey", {"no/slash": "x"}))
        invalid(CORE.create_namespaced_secret, self.ns, client.V1Secret(
            metadata=client.V1ObjectMeta(name="badkey"), data={"a b": ""}))
        port = client.V1ServicePort(port=80, node_port=30123)
        svc = lambda n: client.V1Service(metadata=client.V1ObjectMeta(name=n),
                                         spec=client.V1ServiceSpec(type="NodePort", ports=[port]))
        CORE.create_namespaced_service(self.ns, svc("first"))
        body = invalid(CORE.create_namespaced_service, self.ns, svc("second"))
        self.assertIn("provided port is already allocated", body["message"])
        ip = CORE.read_namespaced_service("first", self.ns).spec.cluster_ip
        body = invalid(CORE.create_namespaced_service, self.ns, client.V1Service(
            metadata=client.V1ObjectMeta(name="third"), spec=client.V1ServiceSpec(cluster_ip=ip, ports=[
                client.V1ServicePort(port=80)])))
        self.assertIn("already allocated", body["message"])
        body = invalid(CORE.create_namespaced_service, self.ns, client.V1Service(
            metadata=client.V1ObjectMeta(name="range"), spec=client.V1ServiceSpec(type="NodePort", ports=[
                client.V1ServicePort(port=80, node_port=80)])))
        self.assertIn("provided port is not in the valid range", body["message"])
        invalid(CORE.create_namespaced_service, self.ns, client.V1Service(
            metadata=client.V1ObjectMeta(name="twoports"), spec=client.V1ServiceSpec(ports=[
                client.V1ServicePort(port=80), client.V1ServicePort(port=81)])))  # several ports need names
        bad = deployment("neg")
        bad.spec.replicas = -1
        body = invalid(APPS.create_namespaced_deployment, self.ns, bad)
        self.assertEqual(body["details"]["causes"][0]["field"], "spec.replicas")
        bad = deployment("never")
        bad.spec.template.spec.restart_policy = "Never"
        invalid(APPS.create_namespaced_deployment, self.ns, bad)
        bad = client.V1Pod(metadata=client.V1ObjectMeta(name="port"), spec=pod_spec())
        bad.spec.containers[0].ports = [client.V1ContainerPort(container_port=70000)]
        invalid(CORE.create_namespaced_pod, self.ns, bad)
        invalid(client.PolicyV1Api(API).create_namespaced_pod_disruption_budget, self.ns, client.V1PodDisruptionBudget(
            metadata=client.V1ObjectMeta(name="pdb"), spec=client.V1PodDisruptionBudgetSpec(
                min_available=1, max_unavailable=1, selector=client.V1LabelSelector(match_labels={"a": "b"}))))
        BATCH.create_namespaced_job(self.ns, job("imm"))
        invalid(BATCH.patch_namespaced_job, "imm", self.ns,
                {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "other"}]}}}})
        invalid(EVENTS.create_namespaced_event, self.ns, client.EventsV1Event(
            metadata=client.V1ObjectMeta(name="ev"), event_time=time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
            reason="Test", type="Normal", regarding=client.V1ObjectReference(kind="Pod", name="p", namespace=self.ns)))

    def test_issue16_5_event_versions(self):
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        EVENTS.create_namespaced_event(self.ns, client.EventsV1Event(
            metadata=client.V1ObjectMeta(name="new"), event_time=now, reason="Made", note="hello", type="Normal",
            action="Make", reporting_controller="py/test", reporting_instance="py-1",
            regarding=client.V1ObjectReference(kind="Pod", name="p", namespace=self.ns)))
        CORE.create_namespaced_event(self.ns, client.CoreV1Event(
            metadata=client.V1ObjectMeta(name="old"), reason="Old", message="legacy", type="Warning", count=3,
            involved_object=client.V1ObjectReference(kind="Pod", name="q", namespace=self.ns),
            source=client.V1EventSource(component="kubelet", host="n1"),
            first_timestamp=now, last_timestamp=now))
        core = {e.metadata.name: e for e in CORE.list_namespaced_event(self.ns).items}  # typed: must parse
        self.assertEqual(core["new"].involved_object.name, "p")
        self.assertEqual(core["new"].message, "hello")
        self.assertEqual(core["new"].reporting_component, "py/test")
        # (A core Event without eventTime does not parse as a typed events.k8s.io Event, upstream
        # too: read that list as JSON.)
        raw = EVENTS.list_namespaced_event(self.ns, _preload_content=False)
        new = {e["metadata"]["name"]: e for e in json.loads(raw.data)["items"]}
        self.assertEqual(new["old"]["regarding"]["name"], "q")
        self.assertEqual(new["old"]["note"], "legacy")
        self.assertEqual(new["old"]["deprecatedCount"], 3)
        self.assertEqual(new["old"]["deprecatedSource"]["component"], "kubelet")
        self.assertNotIn("involvedObject", new["old"])
        self.assertEqual(new["new"]["reportingController"], "py/test")
        selected = EVENTS.list_namespaced_event(self.ns, field_selector="regarding.name=q", _preload_content=False)
        self.assertEqual([e["metadata"]["name"] for e in json.loads(selected.data)["items"]], ["old"])
        old = json.loads(EVENTS.read_namespaced_event("old", self.ns, _preload_content=False).data)
        self.assertEqual((old["apiVersion"], old["regarding"]["name"]), ("events.k8s.io/v1", "q"))
        self.assertEqual(CORE.read_namespaced_event("new", self.ns).api_version, "v1")

    def test_issue16_5_event_versions_in_watches(self):
        # Events written through core/v1 watched through events.k8s.io/v1 (and the other way
        # round): the initial state and live events are converted, and field selectors match the
        # converted fields, as in a list.
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())

        def core_event(name, regarding, message):
            # eventTime set, so that the client's typed events.k8s.io Event parses it.
            return client.CoreV1Event(
                metadata=client.V1ObjectMeta(name=name), reason="Old", message=message, type="Warning", count=2,
                event_time=now, involved_object=client.V1ObjectReference(kind="Pod", name=regarding, namespace=self.ns),
                source=client.V1EventSource(component="kubelet", host="n1"))

        CORE.create_namespaced_event(self.ns, core_event("before", "q", "first"))
        seen = []

        def loop():
            w = watch.Watch()
            for ev in w.stream(EVENTS.list_namespaced_event, self.ns, field_selector="regarding.name=q",
                               timeout_seconds=15):
                seen.append(ev)
                if len(seen) >= 3:
                    w.stop()

        t = threading.Thread(target=loop)
        t.start()
        eventually(lambda: seen or None, what="the initial state")
        CORE.create_namespaced_event(self.ns, core_event("other", "not-q", "ignored"))
        CORE.create_namespaced_event(self.ns, core_event("live", "q", "second"))
        CORE.patch_namespaced_event("live", self.ns, {"message": "third"})
        t.join(20)
        got = [(e["type"], e["object"].metadata.name, e["object"].api_version, e["object"].regarding.name,
                e["object"].note, e["object"].deprecated_count) for e in seen]
        self.assertEqual(got, [("ADDED", "before", "events.k8s.io/v1", "q", "first", 2),
                               ("ADDED", "live", "events.k8s.io/v1", "q", "second", 2),
                               ("MODIFIED", "live", "events.k8s.io/v1", "q", "third", 2)])
        self.assertEqual(seen[0]["raw_object"]["deprecatedSource"], {"component": "kubelet", "host": "n1"})
        self.assertNotIn("involvedObject", seen[0]["raw_object"])
        # And an events.k8s.io/v1 Event through a core/v1 watch, from a resourceVersion.
        rv = CORE.list_namespaced_event(self.ns).metadata.resource_version
        EVENTS.create_namespaced_event(self.ns, client.EventsV1Event(
            metadata=client.V1ObjectMeta(name="new"), event_time=now, reason="Made", note="hello", type="Normal",
            action="Make", reporting_controller="py/test", reporting_instance="py-1",
            regarding=client.V1ObjectReference(kind="Pod", name="p", namespace=self.ns)))
        w = watch.Watch()
        got = [(e["type"], e["object"].api_version, e["object"].involved_object.name, e["object"].message,
                e["object"].reporting_component)
               for e in w.stream(CORE.list_namespaced_event, self.ns, resource_version=rv,
                                 field_selector="involvedObject.name=p", timeout_seconds=2)]
        self.assertEqual(got, [("ADDED", "v1", "p", "hello", "py/test")])

    def test_issue16_6_crd_defaults(self):
        group = "d%s.example.com" % uuid.uuid4().hex[:6]
        schema = {"type": "object", "properties": {"spec": {"type": "object", "default": {}, "properties": {
            "color": {"type": "string", "default": "blue"},
            "size": {"type": "integer", "default": 1},
            "nested": {"type": "object", "properties": {"on": {"type": "boolean", "default": True}}}}}}}
        EXT.create_custom_resource_definition({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "things." + group},
            "spec": {"group": group, "scope": "Namespaced", "names": {"plural": "things", "kind": "Thing"},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": schema}}]}})
        try:
            mk = lambda name, spec: CUSTOM.create_namespaced_custom_object(
                group, "v1", self.ns, "things", {"apiVersion": group + "/v1", "kind": "Thing",
                                                 "metadata": {"name": name}, **({"spec": spec} if spec is not None else {})})
            a = eventually(lambda: mk("a", {"size": 5, "nested": {}}), what="CRD served")
            self.assertEqual(a["spec"], {"size": 5, "color": "blue", "nested": {"on": True}})
            b = mk("b", None)
            self.assertEqual(b["spec"], {"color": "blue", "size": 1})
            b["spec"] = {"color": "red"}
            b = CUSTOM.replace_namespaced_custom_object(group, "v1", self.ns, "things", "b", b)
            self.assertEqual(b["spec"], {"color": "red", "size": 1})
            # Watch events carry the defaults too: the initial state (an object stored before the
            # schema had its defaults) and live events.
            EXT.patch_custom_resource_definition("things." + group, [{
                "op": "add", "path": "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/shape",
                "value": {"type": "string", "default": "round"}}])
            eventually(lambda: CUSTOM.get_namespaced_custom_object(group, "v1", self.ns, "things", "b")["spec"]
                       .get("shape"), what="the new default served")
            seen = []

            def loop():
                w = watch.Watch()
                for ev in w.stream(CUSTOM.list_namespaced_custom_object, group, "v1", self.ns, "things",
                                   timeout_seconds=15):
                    seen.append((ev["type"], ev["object"]["metadata"]["name"], ev["object"].get("spec")))
                    if len(seen) >= 4:
                        w.stop()

            t = threading.Thread(target=loop)
            t.start()
            eventually(lambda: len(seen) >= 2 or None, what="the initial state")
            mk("c", {"color": "green"})
            CUSTOM.delete_namespaced_custom_object(group, "v1", self.ns, "things", "a")
            t.join(20)
            self.assertEqual(sorted(seen[:2]), [
                ("ADDED", "a", {"size": 5, "color": "blue", "nested": {"on": True}, "shape": "round"}),
                ("ADDED", "b", {"color": "red", "size": 1, "shape": "round"})])
            self.assertEqual(seen[2:], [
                ("ADDED", "c", {"color": "green", "size": 1, "shape": "round"}),
                ("DELETED", "a", {"size": 5, "color": "blue", "nested": {"on": True}, "shape": "round"})])
        finally:
            EXT.delete_custom_resource_definition("things." + group)

    def test_issue16_7_service_account(self):
        p = CORE.create_namespaced_pod(self.ns, client.V1Pod(metadata=client.V1ObjectMeta(name="sa"), spec=pod_spec()))
        self.assertEqual(p.spec.service_account_name, "default")
        resources = CORE.get_api_resources().resources
        names = [r.name for r in resources]
        self.assertIn("serviceaccounts", names)
        if "serviceaccounts/token" in names:
            # Advertised: then it must be served.
            CORE.create_namespaced_service_account_token("default", self.ns, client.AuthenticationV1TokenRequest(
                spec=client.V1TokenRequestSpec(audiences=[])))

    def test_issue16_8_job_deletion_orphans_by_default(self):
        BATCH.create_namespaced_job(self.ns, job("orph"))
        pods = eventually(lambda: CORE.list_namespaced_pod(self.ns, label_selector="job-name=orph").items,
                          what="the Job's pod")
        BATCH.delete_namespaced_job("orph", self.ns)  # no propagation policy: upstream orphans
        eventually(lambda: not BATCH.list_namespaced_job(self.ns).items, what="the Job gone")
        left = eventually(lambda: [p for p in CORE.list_namespaced_pod(self.ns, label_selector="job-name=orph").items
                                   if not p.metadata.owner_references], what="orphaned pods")
        self.assertEqual(left[0].metadata.name, pods[0].metadata.name)
        # A v1 ReplicationController too.
        labels = {"rc": "orph"}
        CORE.create_namespaced_replication_controller(self.ns, client.V1ReplicationController(
            metadata=client.V1ObjectMeta(name="orph"), spec=client.V1ReplicationControllerSpec(
                replicas=1, selector=labels,
                template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels=labels), spec=pod_spec()))))
        eventually(lambda: CORE.list_namespaced_pod(self.ns, label_selector="rc=orph").items, what="the RC's pod")
        CORE.delete_namespaced_replication_controller("orph", self.ns)
        eventually(lambda: not CORE.list_namespaced_replication_controller(self.ns).items, what="the RC gone")
        eventually(lambda: [p for p in CORE.list_namespaced_pod(self.ns, label_selector="rc=orph").items
                            if not p.metadata.owner_references], what="the RC's pod orphaned")
        # With a policy given, the pods go.
        BATCH.create_namespaced_job(self.ns, job("bg"))
        eventually(lambda: CORE.list_namespaced_pod(self.ns, label_selector="job-name=bg").items, what="pod")
        BATCH.delete_namespaced_job("bg", self.ns, propagation_policy="Background")
        eventually(lambda: not CORE.list_namespaced_pod(self.ns, label_selector="job-name=bg").items,
                   what="pods deleted")

    def test_issue16_9_status_on_create(self):
        j = BATCH.create_namespaced_job(self.ns, job("st"))
        self.assertIsNotNone(j.status)
        self.assertIsNone(j.status.succeeded)
        d = APPS.create_namespaced_deployment(self.ns, deployment("st"))
        self.assertIsNotNone(d.status)
        raw = API.call_api("/apis/apps/v1/namespaces/%s/deployments/st" % self.ns, "GET",
                           auth_settings=["BearerToken"], _preload_content=False, _return_http_data_only=True)
        self.assertIn("status", json.loads(raw.data))

    def test_issue16_10_managers_and_lease_generation(self):
        d = APPS.create_namespaced_deployment(self.ns, deployment("mf"))
        self.assertEqual([m.manager for m in d.metadata.managed_fields], ["OpenAPI-Generator"])

        # The ReplicaSet is written by the deployment controller, in kite-server's process.
        rs = eventually(lambda: APPS.list_namespaced_replica_set(self.ns).items, what="the ReplicaSet")[0]
        managers = {m.manager for m in rs.metadata.managed_fields}
        self.assertEqual(managers, {"kube-controller-manager"})
        lease = eventually(lambda: COORD.read_namespaced_lease("kube-scheduler", "kube-system"), what="scheduler lease")
        rv = lease.metadata.resource_version
        later = eventually(lambda: (l := COORD.read_namespaced_lease("kube-scheduler", "kube-system"))
                           .metadata.resource_version != rv and l, seconds=30, what="a lease renewal")
        self.assertIsNone(later.metadata.generation)
        self.assertNotIn("unknown", {m.manager for m in later.metadata.managed_fields or []})


if __name__ == "__main__":
    print("python3-kubernetes %s on Python %s" % (kubernetes.__version__, sys.version.split()[0]))
    unittest.main(verbosity=2)
