// kite-server driven by the official JavaScript client (@kubernetes/client-node, pinned in
// package.json / package-lock.json, installed by packaging/dev.sh with `npm ci`), unchanged.
// Run by tests/clients/js.sh (node's test runner), which starts a kite-server and passes its
// admin kubeconfig in KUBECONFIG. Each test uses its own namespace; the `issue 16` tests are the
// upstream semantics the clients rely on, one per finding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  KubeConfig, CoreV1Api, AppsV1Api, BatchV1Api, ApiextensionsV1Api, CustomObjectsApi, EventsV1Api,
  KubernetesObjectApi, Watch, makeInformer, PatchStrategy, setHeaderOptions,
} from '@kubernetes/client-node';

const kc = new KubeConfig();
kc.loadFromFile(process.env.KUBECONFIG);
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const batch = kc.makeApiClient(BatchV1Api);
const ext = kc.makeApiClient(ApiextensionsV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const events = kc.makeApiClient(EventsV1Api);
const objects = KubernetesObjectApi.makeApiClient(kc);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rand = () => randomBytes(4).toString('hex');

async function eventually(check, what, seconds = 20) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  for (;;) {
    try {
      const got = await check();
      if (got) return got;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${seconds}s (last: ${last})`);
    await sleep(200);
  }
}

// The HTTP status and Status body of a call that must fail.
async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    if (e.code === undefined) throw e;
    let body = e.body;
    if (typeof body === 'string') {
      try { body = JSON.parse(body); } catch { /* not JSON */ }
    }
    return { code: e.code, body };
  }
  assert.fail('the call succeeded');
}

async function withNamespace(fn) {
  const ns = `js-${rand()}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  try {
    await fn(ns);
  } finally {
    await core.deleteNamespace({ name: ns }).catch(() => {});
  }
}

const cm = (name, data = { k: 'v' }, labels) => ({ metadata: { name, labels }, data });
const podSpec = () => ({ containers: [{ name: 'c', image: 'busybox' }] });
const deployment = (name) => ({
  metadata: { name },
  spec: {
    replicas: 1, selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: podSpec() },
  },
});
const job = (name) => ({
  metadata: { name },
  spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } } },
});

test('core ConfigMap CRUD', () => withNamespace(async (ns) => {
  const created = await core.createNamespacedConfigMap({ namespace: ns, body: cm('a', { x: '1' }) });
  assert.ok(created.metadata.uid);
  const got = await core.readNamespacedConfigMap({ name: 'a', namespace: ns });
  got.data.y = '2';
  const replaced = await core.replaceNamespacedConfigMap({ name: 'a', namespace: ns, body: got });
  assert.deepEqual(replaced.data, { x: '1', y: '2' });
  await core.deleteNamespacedConfigMap({ name: 'a', namespace: ns });
  assert.equal((await failure(core.readNamespacedConfigMap({ name: 'a', namespace: ns }))).code, 404);
}));

test('apps Deployment CRUD and scale', () => withNamespace(async (ns) => {
  const d = await apps.createNamespacedDeployment({ namespace: ns, body: deployment('web') });
  assert.equal(d.spec.strategy.type, 'RollingUpdate');
  await apps.patchNamespacedDeploymentScale({ name: 'web', namespace: ns, body: { spec: { replicas: 2 } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  assert.equal((await apps.readNamespacedDeployment({ name: 'web', namespace: ns })).spec.replicas, 2);
  const rs = await eventually(async () => (await apps.listNamespacedReplicaSet({ namespace: ns })).items[0], 'a ReplicaSet');
  assert.equal(rs.metadata.ownerReferences[0].kind, 'Deployment');
  await apps.deleteNamespacedDeployment({ name: 'web', namespace: ns });
  await eventually(async () => (await apps.listNamespacedReplicaSet({ namespace: ns })).items.length === 0, 'RS collected');
}));

test('batch Job CRUD', () => withNamespace(async (ns) => {
  const j = await batch.createNamespacedJob({ namespace: ns, body: job('once') });
  assert.ok(j.spec.selector.matchLabels['batch.kubernetes.io/controller-uid']);
  await eventually(async () => (await core.listNamespacedPod({ namespace: ns, labelSelector: 'job-name=once' })).items.length,
    'the Job\'s pod');
  await batch.deleteNamespacedJob({ name: 'once', namespace: ns, propagationPolicy: 'Background' });
  await eventually(async () => (await core.listNamespacedPod({ namespace: ns, labelSelector: 'job-name=once' })).items.length === 0,
    'pods deleted');
}));

test('custom resource CRUD', () => withNamespace(async (ns) => {
  const group = `js${rand()}.example.com`;
  await ext.createCustomResourceDefinition({
    body: {
      metadata: { name: `gadgets.${group}` },
      spec: {
        group, scope: 'Namespaced', names: { plural: 'gadgets', kind: 'Gadget' },
        versions: [{
          name: 'v1', served: true, storage: true, subresources: { status: {} },
          // The client's typed schema names this x_kubernetes_preserve_unknown_fields (and
          // `default` _default): it drops members it does not know.
          schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
        }],
      },
    },
  });
  try {
    const body = { apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'g' }, spec: { n: 1 } };
    await eventually(() => custom.createNamespacedCustomObject({ group, version: 'v1', namespace: ns, plural: 'gadgets', body }),
      'the CRD served');
    const got = await custom.getNamespacedCustomObject({ group, version: 'v1', namespace: ns, plural: 'gadgets', name: 'g' });
    assert.equal(got.spec.n, 1);
    const patched = await custom.patchNamespacedCustomObject(
      { group, version: 'v1', namespace: ns, plural: 'gadgets', name: 'g', body: { spec: { n: 2 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    assert.equal(patched.spec.n, 2);
    assert.equal(patched.metadata.generation, 2);
    const list = await custom.listNamespacedCustomObject({ group, version: 'v1', namespace: ns, plural: 'gadgets' });
    assert.deepEqual(list.items.map((i) => i.metadata.name), ['g']);
    await custom.deleteNamespacedCustomObject({ group, version: 'v1', namespace: ns, plural: 'gadgets', name: 'g' });
  } finally {
    await ext.deleteCustomResourceDefinition({ name: `gadgets.${group}` });
  }
}));

test('every patch type', () => withNamespace(async (ns) => {
  await apps.createNamespacedDeployment({ namespace: ns, body: deployment('p') });
  const patch = (body, type) => apps.patchNamespacedDeployment({ name: 'p', namespace: ns, body },
    setHeaderOptions('Content-Type', type));
  let d = await patch([{ op: 'replace', path: '/spec/replicas', value: 2 }], PatchStrategy.JsonPatch);
  assert.equal(d.spec.replicas, 2);
  d = await patch({ spec: { template: { spec: { containers: [{ name: 'side', image: 'nginx' }] } } } },
    PatchStrategy.StrategicMergePatch);
  assert.deepEqual(d.spec.template.spec.containers.map((c) => c.name).sort(), ['c', 'side']);
  d = await patch({ spec: { template: { spec: { containers: [{ name: 'only', image: 'nginx' }] } } } },
    PatchStrategy.MergePatch);
  assert.deepEqual(d.spec.template.spec.containers.map((c) => c.name), ['only']);
}));

test('server-side apply with force', () => withNamespace(async (ns) => {
  const spec = (v) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', namespace: ns }, data: { k: v } });
  const out = await objects.patch(spec('a'), undefined, undefined, 'alice', undefined, PatchStrategy.ServerSideApply);
  assert.equal(out.data.k, 'a');
  const err = await failure(objects.patch(spec('b'), undefined, undefined, 'bob', undefined, PatchStrategy.ServerSideApply));
  assert.equal(err.code, 409);
  const forced = await objects.patch(spec('b'), undefined, undefined, 'bob', true, PatchStrategy.ServerSideApply);
  assert.equal(forced.data.k, 'b');
  assert.ok(forced.metadata.managedFields.some((m) => m.manager === 'bob' && m.operation === 'Apply'));
}));

test('list paging and selectors', () => withNamespace(async (ns) => {
  for (let i = 0; i < 5; i++) {
    await core.createNamespacedConfigMap({ namespace: ns, body: cm(`c${i}`, { k: 'v' }, { parity: i % 2 ? 'odd' : 'even' }) });
  }
  const names = [];
  let token;
  let pages = 0;
  do {
    const page = await core.listNamespacedConfigMap({ namespace: ns, limit: 2, _continue: token, labelSelector: 'parity' });
    pages++;
    names.push(...page.items.map((i) => i.metadata.name));
    token = page.metadata._continue;
  } while (token);
  assert.equal(pages, 3);
  assert.deepEqual(names.sort(), ['c0', 'c1', 'c2', 'c3', 'c4']);
  const odd = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'parity=odd' });
  assert.deepEqual(odd.items.map((i) => i.metadata.name).sort(), ['c1', 'c3']);
  const one = await core.listNamespacedConfigMap({ namespace: ns, fieldSelector: 'metadata.name=c4' });
  assert.deepEqual(one.items.map((i) => i.metadata.name), ['c4']);
}));

// Runs a watch until `count` events arrived or the server closed it; resolves the events as
// [type, name, resourceVersion, object]. `start` runs once the watch is established.
function collect(path, query, count, start = () => {}) {
  return new Promise((resolve, reject) => {
    const seen = [];
    let controller;
    new Watch(kc).watch(path, query, (type, obj) => {
      seen.push([type, obj.metadata.name ?? '', obj.metadata.resourceVersion, obj]);
      if (seen.length >= count && controller) controller.abort();
    }, (err) => (err && err.name !== 'AbortError' ? reject(err) : resolve(seen)))
      .then((c) => { controller = c; start(); }, reject);
  });
}

test('watch resume from a resourceVersion, bookmarks and timeouts', () => withNamespace(async (ns) => {
  const path = `/api/v1/namespaces/${ns}/configmaps`;
  const mine = { t: 'resume' };
  await core.createNamespacedConfigMap({ namespace: ns, body: cm('r1', { k: 'v' }, mine) });
  const mid = (await core.createNamespacedConfigMap({ namespace: ns, body: cm('r2', { k: 'v' }, mine) })).metadata.resourceVersion;
  await core.createNamespacedConfigMap({ namespace: ns, body: cm('r3', { k: 'v' }, mine) });
  const resumed = await collect(path, { resourceVersion: mid, labelSelector: 't=resume', timeoutSeconds: 2 }, 99);
  assert.deepEqual(resumed.map(([t, n]) => [t, n]), [['ADDED', 'r3']]);
  const t0 = Date.now();
  const marks = await collect(path, { resourceVersion: mid, labelSelector: 't=resume', allowWatchBookmarks: true,
    timeoutSeconds: 2 }, 99);
  assert.deepEqual(marks.map(([t]) => t), ['ADDED', 'BOOKMARK']);
  assert.ok(Date.now() - t0 < 10000, 'the watch ended at its timeout');
  // A resourceVersion outside the window: the stream's ERROR event carries 410 Gone.
  const gone = await new Promise((resolve, reject) => {
    new Watch(kc).watch(path, { resourceVersion: '1', timeoutSeconds: 2 }, (type, obj) => {
      if (type === 'ERROR') resolve(obj);
    }, () => resolve(null)).catch(reject);
  });
  assert.equal(gone?.code, 410);
}));

test('informer sees add, update, delete, including leaving its selector', () => withNamespace(async (ns) => {
  const seen = [];
  const informer = makeInformer(kc, `/api/v1/namespaces/${ns}/configmaps`,
    () => core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'watched=yes' }), 'watched=yes');
  for (const verb of ['add', 'update', 'delete']) informer.on(verb, (o) => seen.push(`${verb}:${o.metadata.name}`));
  await informer.start();
  try {
    await core.createNamespacedConfigMap({ namespace: ns, body: cm('i', { k: 'v' }, { watched: 'yes' }) });
    await eventually(() => seen.includes('add:i'), 'add');
    await core.patchNamespacedConfigMap({ name: 'i', namespace: ns, body: { data: { k: 'w' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await eventually(() => seen.includes('update:i'), 'update');
    await core.patchNamespacedConfigMap({ name: 'i', namespace: ns, body: { metadata: { labels: { watched: 'no' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await eventually(() => seen.includes('delete:i'), 'delete on leaving the selector');
    await core.createNamespacedConfigMap({ namespace: ns, body: cm('j', { k: 'v' }, { watched: 'yes' }) });
    await eventually(() => seen.includes('add:j'), 'add j');
    await core.deleteNamespacedConfigMap({ name: 'j', namespace: ns });
    await eventually(() => seen.includes('delete:j'), 'delete j');
    assert.equal(informer.list(ns).length, 0);
  } finally {
    await informer.stop();
  }
}));

test('409, 404 and 422 as the library raises them', () => withNamespace(async (ns) => {
  await core.createNamespacedConfigMap({ namespace: ns, body: cm('e') });
  let err = await failure(core.createNamespacedConfigMap({ namespace: ns, body: cm('e') }));
  assert.equal(err.code, 409);
  assert.equal(err.body.reason, 'AlreadyExists');
  const stale = await core.readNamespacedConfigMap({ name: 'e', namespace: ns });
  await core.replaceNamespacedConfigMap({ name: 'e', namespace: ns, body: { ...stale, data: { k: 'newer' } } });
  err = await failure(core.replaceNamespacedConfigMap({ name: 'e', namespace: ns, body: stale }));
  assert.equal(err.code, 409);
  assert.equal(err.body.reason, 'Conflict');
  assert.equal((await failure(core.readNamespacedConfigMap({ name: 'nope', namespace: ns }))).code, 404);
  err = await failure(core.createNamespacedConfigMap({ namespace: ns, body: cm('Bad_Name') }));
  assert.equal(err.code, 422);
  assert.equal(err.body.details.causes[0].field, 'metadata.name');
}));

// Issue 16, one test per finding (the JavaScript side of each).

test('issue 16 item 1: boolean query parameters', () => withNamespace(async (ns) => {
  await core.createNamespacedConfigMap({ namespace: ns, body: cm('qb', { k: 'v' }, { t: 'qb' }) });
  // The JavaScript client sends "true"; other clients "True", "1": all are a watch.
  for (const spelling of ['true', 'True', '1']) {
    const got = await collect(`/api/v1/namespaces/${ns}/configmaps`,
      { watch: spelling, labelSelector: 't=qb', timeoutSeconds: 1 }, 99);
    assert.deepEqual(got.map(([t, n]) => [t, n]), [['ADDED', 'qb']], spelling);
  }
}));

test('issue 16 item 2: delete without preconditions survives concurrent writers', () => withNamespace(async (ns) => {
  let conflicts = 0;
  for (let n = 0; n < 10; n++) {
    const name = `d${n}`;
    await core.createNamespacedConfigMap({ namespace: ns, body: cm(name) });
    let stop = false;
    const writer = async () => {
      for (let i = 0; !stop; i++) {
        await core.patchNamespacedConfigMap({ name, namespace: ns, body: { data: { n: `${i}` } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch)).catch(() => { stop = true; });
      }
    };
    const writers = [writer(), writer()];
    await sleep(20);
    await core.deleteNamespacedConfigMap({ name, namespace: ns }).catch((e) => { if (e.code === 409) conflicts++; else throw e; });
    stop = true;
    await Promise.all(writers);
  }
  assert.equal(conflicts, 0);
}));

test('issue 16 item 3: Secret stringData', () => withNamespace(async (ns) => {
  const s = await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 's' }, stringData: { a: 'one' } } });
  assert.equal(s.stringData, undefined);
  assert.equal(Buffer.from(s.data.a, 'base64').toString(), 'one');
  const p = await core.patchNamespacedSecret({ name: 's', namespace: ns, body: { stringData: { b: 'two' } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  assert.equal(Buffer.from(p.data.b, 'base64').toString(), 'two');
  assert.equal(p.stringData, undefined);
}));

test('issue 16 item 4: validation', () => withNamespace(async (ns) => {
  let err = await failure(core.createNamespacedSecret({
    namespace: ns, body: { metadata: { name: 't' }, type: 'kubernetes.io/tls', data: { 'tls.key': '' } },
  }));
  assert.equal(err.code, 422);
  err = await failure(core.createNamespacedConfigMap({ namespace: ns, body: cm('k', { 'a/b': 'x' }) }));
  assert.equal(err.code, 422);
  err = await failure(events.createNamespacedEvent({
    namespace: ns,
    body: { metadata: { name: 'e' }, eventTime: new Date(), reason: 'R', type: 'Normal', regarding: { kind: 'Pod', name: 'p' } },
  }));
  assert.equal(err.code, 422);
}));

test('issue 16 item 5: Event versions', () => withNamespace(async (ns) => {
  await events.createNamespacedEvent({
    namespace: ns,
    body: {
      metadata: { name: 'n' }, eventTime: new Date(), reason: 'Made', note: 'hello', type: 'Normal', action: 'Make',
      reportingController: 'js/test', reportingInstance: 'js-1', regarding: { kind: 'Pod', name: 'p', namespace: ns },
    },
  });
  const old = await core.readNamespacedEvent({ name: 'n', namespace: ns });
  assert.equal(old.apiVersion, 'v1');
  assert.equal(old.involvedObject.name, 'p');
  assert.equal(old.message, 'hello');
}));

test('issue 16 item 6: CRD schema defaults', () => withNamespace(async (ns) => {
  const group = `jd${rand()}.example.com`;
  await ext.createCustomResourceDefinition({
    body: {
      metadata: { name: `dials.${group}` },
      spec: {
        group, scope: 'Namespaced', names: { plural: 'dials', kind: 'Dial' },
        versions: [{
          name: 'v1', served: true, storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { spec: { type: 'object', properties: { level: { type: 'integer', _default: 7 } } } },
            },
          },
        }],
      },
    },
  });
  try {
    const body = { apiVersion: `${group}/v1`, kind: 'Dial', metadata: { name: 'd' }, spec: {} };
    const d = await eventually(() => custom.createNamespacedCustomObject({ group, version: 'v1', namespace: ns, plural: 'dials', body }),
      'the CRD served');
    assert.equal(d.spec.level, 7);
  } finally {
    await ext.deleteCustomResourceDefinition({ name: `dials.${group}` });
  }
}));

test('issue 16 item 5: Event versions in watches', () => withNamespace(async (ns) => {
  const coreEvent = (name, regarding, message) => core.createNamespacedEvent({
    namespace: ns,
    body: {
      metadata: { name }, reason: 'Old', message, type: 'Warning', count: 2,
      involvedObject: { kind: 'Pod', name: regarding, namespace: ns }, source: { component: 'kubelet', host: 'n1' },
    },
  });
  await coreEvent('before', 'q', 'first');
  // The initial state and a live event, converted; the field selector matches converted fields.
  const got = await collect(`/apis/events.k8s.io/v1/namespaces/${ns}/events`,
    { fieldSelector: 'regarding.name=q', timeoutSeconds: 10 }, 2,
    async () => { await coreEvent('other', 'not-q', 'ignored'); await coreEvent('live', 'q', 'second'); });
  assert.deepEqual(got.map(([t, n, , o]) => [t, n, o.apiVersion, o.regarding?.name, o.note, o.deprecatedCount,
    o.deprecatedSource?.component, 'involvedObject' in o, 'message' in o]), [
    ['ADDED', 'before', 'events.k8s.io/v1', 'q', 'first', 2, 'kubelet', false, false],
    ['ADDED', 'live', 'events.k8s.io/v1', 'q', 'second', 2, 'kubelet', false, false],
  ]);
}));

test('issue 16 item 6: CRD schema defaults in watches', () => withNamespace(async (ns) => {
  const group = `jw${rand()}.example.com`;
  const name = `dials.${group}`;
  const schema = (props) => ({ openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: props } } } });
  await ext.createCustomResourceDefinition({
    body: {
      metadata: { name },
      spec: {
        group, scope: 'Namespaced', names: { plural: 'dials', kind: 'Dial' },
        versions: [{ name: 'v1', served: true, storage: true, schema: schema({ level: { type: 'integer' } }) }],
      },
    },
  });
  try {
    const create = (n) => custom.createNamespacedCustomObject({ group, version: 'v1', namespace: ns, plural: 'dials',
      body: { apiVersion: `${group}/v1`, kind: 'Dial', metadata: { name: n }, spec: {} } });
    await eventually(() => create('old'), 'the CRD served');
    // A default added afterwards: 'old' is stored without it.
    await ext.patchCustomResourceDefinition({
      name,
      body: [{ op: 'add', path: '/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/level/default', value: 7 }],
    }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    await eventually(async () => (await custom.getNamespacedCustomObject({ group, version: 'v1', namespace: ns,
      plural: 'dials', name: 'old' })).spec.level === 7, 'the default served');
    const got = await collect(`/apis/${group}/v1/namespaces/${ns}/dials`, { timeoutSeconds: 10 }, 3, async () => {
      await create('new');
      await custom.deleteNamespacedCustomObject({ group, version: 'v1', namespace: ns, plural: 'dials', name: 'old' });
    });
    assert.deepEqual(got.map(([t, n, , o]) => [t, n, o.spec]), [
      ['ADDED', 'old', { level: 7 }], ['ADDED', 'new', { level: 7 }], ['DELETED', 'old', { level: 7 }],
    ]);
  } finally {
    await ext.deleteCustomResourceDefinition({ name });
  }
}));

test('issue 16 item 7: pods run as the default service account', () => withNamespace(async (ns) => {
  const p = await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'p' }, spec: podSpec() } });
  assert.equal(p.spec.serviceAccountName, 'default');
}));

test('issue 16 item 8: a Job deleted without a policy orphans its pods', () => withNamespace(async (ns) => {
  await batch.createNamespacedJob({ namespace: ns, body: job('o') });
  await eventually(async () => (await core.listNamespacedPod({ namespace: ns, labelSelector: 'job-name=o' })).items.length,
    'the Job\'s pod');
  await batch.deleteNamespacedJob({ name: 'o', namespace: ns });
  await eventually(async () => (await batch.listNamespacedJob({ namespace: ns })).items.length === 0, 'the Job gone');
  const pods = await eventually(async () => (await core.listNamespacedPod({ namespace: ns, labelSelector: 'job-name=o' }))
    .items.filter((p) => !p.metadata.ownerReferences?.length), 'orphaned pods');
  assert.equal(pods.length, 1);
}));

test('issue 16 item 9: status on create', () => withNamespace(async (ns) => {
  const j = await batch.createNamespacedJob({ namespace: ns, body: job('s') });
  assert.deepEqual(JSON.parse(JSON.stringify(j.status)), {});
  const d = await apps.createNamespacedDeployment({ namespace: ns, body: deployment('s') });
  assert.ok(d.status);
}));

test('issue 16 item 10: field managers of kite\'s own components', () => withNamespace(async (ns) => {
  await apps.createNamespacedDeployment({ namespace: ns, body: deployment('m') });
  const rs = await eventually(async () => (await apps.listNamespacedReplicaSet({ namespace: ns })).items[0], 'a ReplicaSet');
  assert.deepEqual(rs.metadata.managedFields.map((m) => m.manager), ['kube-controller-manager']);
}));
