import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { buildZip } from '../support/zip.js';
import { PB_022, PB_LATEST, PB_PREV } from '../support/pocketbase.js';

/**
 * Operations in turn: whatever is asked of an app while another operation runs
 * waits in the app's queue (202 with its place) and runs in order; nothing is
 * refused with 409 because something else is running.
 */

let h: PocketdHost;
before(async () => {
  // Slow motion (each step pauses) so that operations overlap on purpose; a small queue bound to reach it.
  h = await setupPocketdHost({ settings: { step_pause_ms: '150', queue_max: '3' } });
});
after(async () => {
  await h?.stop();
});

const created = async (name: string, extra: Record<string, unknown> = {}) => {
  const r = await h.api('POST', '/api/apps', { name, domains: [`${name}.test`], ...extra });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.deployment_id as number;
};
const upload = async (app: string, html: string) => {
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(buildZip([{ name: 'pb_public/index.html', data: html }]))]), 'b.zip');
  const r = await fetch(`${h.url}/api/apps/${app}/bundles`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}` },
    body: form,
  });
  assert.equal(r.status, 201);
  return ((await r.json()) as { number: number }).number;
};

test("a stop sent right after a create's 202 waits for the create, then stops the app", async () => {
  const create = await created('first');
  const stop = await h.api('POST', '/api/apps/first/stop');
  assert.equal(stop.status, 202, JSON.stringify(stop.body));
  assert.equal(stop.body.status, 'queued');
  assert.equal(stop.body.position, 1);
  assert.equal((await h.waitDeployment(create)).status, 'success');
  const d = await h.waitDeployment(stop.body.deployment_id);
  assert.equal(d.status, 'success', JSON.stringify(d));
  assert.equal(d.kind, 'stop');
  const app = (await h.api('GET', '/api/apps/first')).body;
  assert.equal(app.state, 'stopped');
  assert.equal(app.desired_state, 'stopped');
  // With nothing ahead, a start answers with the new state, as before.
  const start = await h.api('POST', '/api/apps/first/start');
  assert.equal(start.status, 200);
  assert.equal(start.body.state, 'running');
});

test("two upgrades sent back to back both run, in order; the app ends on the second's version", async () => {
  // The newest 0.22 (PyPI's build, linked against glibc) under the unit's sandbox, then up across 0.23.
  assert.equal((await h.waitDeployment(await created('second', { pocketbase_version: PB_022 }))).status, 'success');
  // Forward only across 0.23: PocketBase 0.22 cannot read what 0.23+ made of its data.
  const a = await h.api('POST', '/api/apps/second/upgrade', { version: PB_PREV, allow_downgrade: true });
  const b = await h.api('POST', '/api/apps/second/upgrade', { version: PB_LATEST });
  assert.deepEqual([a.status, b.status], [202, 202]);
  assert.deepEqual([a.body.position, b.body.position], [0, 1]);
  const [da, db] = [await h.waitDeployment(a.body.deployment_id), await h.waitDeployment(b.body.deployment_id)];
  assert.deepEqual([da.status, db.status], ['success', 'success'], JSON.stringify([da.error, db.error]));
  assert.ok(Date.parse(db.started_at) >= Date.parse(da.finished_at), 'the second started after the first ended');
  assert.deepEqual(db.params.from, { version: PB_PREV, bundle: null });
  assert.equal((await h.api('GET', '/api/apps/second')).body.version, PB_LATEST);
});

test('a queue at its bound answers 429 naming the limit; cancel ends a queued operation at once', async () => {
  const running = await h.api('POST', '/api/apps/second/restart');
  assert.equal(running.status, 200, 'nothing ahead: it ran');
  const first = await h.api('POST', '/api/apps/second/upgrade', { version: PB_PREV, allow_downgrade: true });
  const waiting = [];
  for (let i = 0; i < 3; i++) waiting.push(await h.api('POST', '/api/apps/second/restart'));
  assert.deepEqual(
    waiting.map((w) => w.status),
    [202, 202, 202],
  );
  const over = await h.api('POST', '/api/apps/second/restart');
  assert.equal(over.status, 429, JSON.stringify(over.body));
  assert.equal(over.body.error.code, 'QUEUE_FULL');
  assert.match(over.body.error.message, /queue_max/);
  const cancel = await h.api('POST', `/api/deployments/${waiting[1]!.body.deployment_id}/cancel`);
  assert.equal(cancel.status, 202);
  assert.equal(cancel.body.status, 'cancelled');
  const ends = await Promise.all([first, ...waiting].map((w) => h.waitDeployment(w.body.deployment_id)));
  assert.deepEqual(
    ends.map((d) => d.status),
    ['success', 'success', 'cancelled', 'success'],
  );
  assert.equal(ends[2].steps.length, 0, 'a cancelled queued operation never started');
  const listed = (await h.api('GET', '/api/deployments?app=second&status=queued')).body.deployments;
  assert.deepEqual(listed, []);
});

test('a deploy that supersedes ends the deploys still waiting: two quick pushes deploy the newest once', async () => {
  assert.equal((await h.waitDeployment(await created('third'))).status, 'success');
  const [b1, b2, b3] = [await upload('third', 'one'), await upload('third', 'two'), await upload('third', 'three')];
  const d1 = await h.api('POST', '/api/apps/third/deploy', { bundle: b1 });
  const d2 = await h.api('POST', '/api/apps/third/deploy', { bundle: b2 });
  const d3 = await h.api('POST', '/api/apps/third/deploy', { bundle: b3, supersede: true });
  assert.deepEqual([d1.body.position, d3.body.position], [0, 1]);
  const ends = await Promise.all([d1, d2, d3].map((d) => h.waitDeployment(d.body.deployment_id)));
  assert.deepEqual(
    ends.map((d) => d.status),
    ['success', 'superseded', 'success'],
  );
  assert.equal((await h.api('GET', '/api/apps/third')).body.bundle, b3);
});

test('a delete ends what waits and takes its turn after what runs', async () => {
  assert.equal((await h.waitDeployment(await created('fourth'))).status, 'success');
  const upgrade = await h.api('POST', '/api/apps/fourth/upgrade', { version: PB_PREV, allow_downgrade: true });
  const restart = await h.api('POST', '/api/apps/fourth/restart');
  assert.equal(restart.status, 202);
  const del = await h.api('DELETE', '/api/apps/fourth?purge=true');
  assert.equal(del.status, 202, JSON.stringify(del.body));
  assert.equal((await h.waitDeployment(restart.body.deployment_id)).status, 'cancelled');
  assert.equal((await h.waitDeployment(upgrade.body.deployment_id)).status, 'success');
  assert.equal((await h.waitDeployment(del.body.deployment_id)).status, 'success');
  assert.equal((await h.api('GET', '/api/apps/fourth')).status, 404);
});

test('work queued when the daemon is killed runs after it comes back', async () => {
  const create = await created('fifth');
  const backup = await h.api('POST', '/api/apps/fifth/backups');
  const stop = await h.api('POST', '/api/apps/fifth/stop');
  assert.deepEqual([backup.status, stop.status], [202, 202]);
  await h.waitDeployment(create);
  await h.waitStep(backup.body.deployment_id, 'backup');
  await h.killDaemon();
  // The backup it was making is failed by recovery; the stop that waited runs now.
  assert.equal((await h.waitDeployment(stop.body.deployment_id)).status, 'success');
  assert.equal((await h.api('GET', '/api/apps/fifth')).body.state, 'stopped');
  assert.notEqual((await h.api('GET', `/api/deployments/${backup.body.deployment_id}`)).body.status, 'queued');
});
