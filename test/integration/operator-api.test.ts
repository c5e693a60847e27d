import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { buildZip } from '../support/zip.js';
import { jsonRouteHook } from '../support/pb-hooks.js';

// The operator's day (#31), point 6 through the API: what a self-hoster expects, on a real host.
let h: PocketdHost;

before(async () => {
  h = await setupPocketdHost({ settings: { health_interval_seconds: '2', health_timeout_seconds: '8' } });
});
after(async () => {
  await h?.stop();
});

async function createApp(name: string, extra: Record<string, unknown> = {}) {
  const r = await h.api('POST', '/api/apps', { name, ...extra });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
}
async function uploadAndDeploy(app: string, files: Array<{ name: string; data: string }>) {
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(buildZip(files))], { type: 'application/zip' }), 'bundle.zip');
  const res = await fetch(`${h.url}/api/apps/${app}/bundles`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}` },
    body: form,
  });
  assert.equal(res.status, 201);
  const number = ((await res.json()) as any).number as number;
  const d = await h.api('POST', `/api/apps/${app}/deploy`, { bundle: number });
  assert.equal(d.status, 202, JSON.stringify(d.body));
  return h.waitDeployment(d.body.deployment_id);
}

test('health_path is validated: starts with /, URL characters only, bounded; each a 422 naming it', async () => {
  await createApp('healthy', { health_path: '/api/health' });
  assert.equal((await h.api('GET', '/api/apps/healthy')).body.health_path, '/api/health');
  for (const bad of ['ready', '/has space', '/tab\there', '/nl\nx', '/frag#x', `/${'a'.repeat(200)}`, '//x y']) {
    const r = await h.api('PATCH', '/api/apps/healthy', { health_path: bad });
    assert.equal(r.status, 422, `${JSON.stringify(bad)}: ${r.status}`);
    assert.deepEqual(
      r.body.error.fields.map((f: any) => f.field),
      r.body.error.fields.map(() => 'health_path'),
      JSON.stringify(r.body),
    );
  }
  const create = await h.api('POST', '/api/apps', { name: 'badpath', health_path: 'http://evil.test/' });
  assert.equal(create.status, 422);
  assert.equal(create.body.error.fields[0].field, 'health_path');
});

test("the deploy gate and the checks ask the app's own health path: a hook that breaks its route is rolled back", async () => {
  const version = (await h.api('GET', '/api/apps/healthy')).body.version as string;
  const ready = { name: 'pb_hooks/ready.pb.js', data: jsonRouteHook(version, '/ready', 'out.ok = true;') };
  const first = await uploadAndDeploy('healthy', [ready]);
  assert.equal(first.status, 'success', first.error);
  const set = await h.api('PATCH', '/api/apps/healthy', { health_path: '/ready' });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.equal((await h.api('GET', '/api/apps/healthy')).body.health_path, '/ready');
  // A bundle whose hooks start fine but no longer serve /ready: PocketBase's /api/health would pass it.
  const other = { name: 'pb_hooks/other.pb.js', data: jsonRouteHook(version, '/other', 'out.ok = true;') };
  const broken = await uploadAndDeploy('healthy', [other]);
  assert.equal(broken.status, 'rolled_back', JSON.stringify(broken.steps.map((s: any) => [s.name, s.status])));
  assert.match(broken.error, /\/ready answered 404/);
  assert.equal(
    (await h.api('GET', '/api/apps/healthy')).body.bundle,
    first.params.to.bundle,
    'back on the bundle that served it',
  );
  // The checks ask it too: a path nothing serves is unhealthy, and says which path.
  assert.equal((await h.api('PATCH', '/api/apps/healthy', { health_path: '/nothing-here' })).status, 200);
  let last: any;
  for (let i = 0; i < 60; i++) {
    last = (await h.api('GET', '/api/apps/healthy/health?limit=1')).body;
    if (last.state === 'unhealthy') break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(last.state, 'unhealthy');
  assert.match(last.history[0].error, /\/nothing-here answered 404/);
  assert.equal((await h.api('PATCH', '/api/apps/healthy', { health_path: null })).status, 200);
  assert.equal((await h.api('GET', '/api/apps/healthy')).body.health_path, '/api/health');
});
