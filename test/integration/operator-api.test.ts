import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { buildZip } from '../support/zip.js';
import { jsonRouteHook } from '../support/pb-hooks.js';

// The operator's day (#31), point 6 through the API: what a self-hoster expects, on a real host.
let h: PocketdHost;

before(async () => {
  h = await setupPocketdHost({
    settings: {
      health_interval_seconds: '2',
      health_timeout_seconds: '8',
      alert_after: '2',
      public_url: 'https://ops.example.test/',
    },
  });
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

/** A webhook receiver in the test (the sandbox shares this loopback): every message pocketd sends. */
async function receiver() {
  const got: any[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      got.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { got, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, close: () => server.close() };
}
async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('an incident links to the dashboard, can be acknowledged, and muted (its recovery and its next opening say nothing)', async () => {
  const hook = await receiver();
  try {
    const made = await h.api('POST', '/api/alerts/channels', {
      kind: 'webhook',
      name: 'ops-hook',
      url: hook.url,
      alert_on: ['app_down'],
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await createApp('flaky');
    const down = async () => h.sbx.run(['systemctl', 'stop', 'pb-flaky.service']);
    await down();
    const opened = await until('the opened message', async () =>
      hook.got.find((m) => m.event === 'opened' && m.app === 'flaky'),
    );
    assert.equal(opened.url, 'https://ops.example.test/#/apps/flaky/overview');
    const id = opened.incident_id as number;
    // Acknowledged: by whom, once; an app token may not; an unknown one is a 404.
    const ack = await h.api('POST', `/api/alerts/incidents/${id}/acknowledge`);
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    assert.ok(ack.body.acknowledged_at);
    assert.match(ack.body.acknowledged_by, /^token:/);
    const app = (await h.api('POST', '/api/tokens', { name: 'flaky-ci', scope: 'app:flaky:deploy' })).body.token;
    assert.equal((await h.api('POST', `/api/alerts/incidents/${id}/acknowledge`, undefined, app)).status, 403);
    assert.equal((await h.api('POST', '/api/alerts/incidents/999999/acknowledge')).status, 404);
    for (const minutes of [-1, 10_081, 1.5, '60'])
      assert.equal((await h.api('POST', `/api/alerts/incidents/${id}/mute`, { minutes })).status, 422, `${minutes}`);
    const muted = await h.api('POST', `/api/alerts/incidents/${id}/mute`, { minutes: 60 });
    assert.equal(muted.status, 200);
    assert.ok(Date.parse(muted.body.muted_until) > Date.now() + 59 * 60_000);
    // Back up (resolved, silently), down again (a new incident of the same key, muted too, silently).
    const before = hook.got.length;
    await h.api('POST', '/api/apps/flaky/start');
    await until('the resolution', async () => {
      const list = (await h.api('GET', '/api/alerts/incidents?limit=10')).body.incidents as any[];
      return list.find((i) => i.id === id)?.closed_at;
    });
    await down();
    const next = await until('the next incident', async () => {
      const list = (await h.api('GET', '/api/alerts/incidents?limit=10')).body.incidents as any[];
      return list.find((i) => i.kind === 'app_down' && i.app === 'flaky' && i.id !== id && !i.closed_at);
    });
    assert.equal(next.muted_until, muted.body.muted_until, 'the mute carries over to the same key');
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(
      hook.got.slice(before).map((m) => m.event),
      [],
      'nothing is sent while muted',
    );
    // Unmuted: its recovery is told again, with its link.
    assert.equal((await h.api('POST', `/api/alerts/incidents/${next.id}/mute`, { minutes: 0 })).body.muted_until, null);
    await h.api('POST', '/api/apps/flaky/start');
    const resolved = await until('the resolved message', async () =>
      hook.got.find((m) => m.event === 'resolved' && m.incident_id === next.id),
    );
    assert.equal(resolved.url, 'https://ops.example.test/#/apps/flaky/overview');
    assert.equal((await h.api('POST', `/api/alerts/incidents/${next.id}/acknowledge`)).status, 409, 'closed');
  } finally {
    hook.close();
  }
});
