import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEvents } from '../support/events.js';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { until } from '../support/until.js';

/**
 * Live state: systemd tells pocketd over D-Bus, pocketd answers from memory.
 * (How fast, against one systemctl process, is bench/status and bench/live.)
 */

let h: PocketdHost;
before(async () => {
  h = await setupPocketdHost({
    settings: { health_interval_seconds: '3600', systemd_bus: 'unix:path=/run/dbus/system_bus_socket' },
  });
});
after(async () => {
  await h?.stop();
});

const metric = async (name: string) => {
  const text = (await h.api('GET', '/metrics')).body as string;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} in /metrics`);
  return Number(line.split(' ')[1]);
};
const healthOf = async (app: string) => (await h.api('GET', `/api/apps/${app}/health`)).body.state as string;

test("an app that passed its create's health gate is healthy at once (the scheduled checks run once an hour here)", async () => {
  const r = await h.api('POST', '/api/apps', { name: 'live', domains: ['live.test'] });
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
  assert.equal(
    await until(
      () => healthOf('live'),
      (s) => s === 'healthy',
    ),
    'healthy',
  );
  const checks = await h.api('GET', '/api/validate/system');
  assert.match(JSON.stringify(checks.body.checks.find((c: any) => c.name === 'systemd_events')), /"ok":true/);
  assert.equal(await metric('pocketd_systemd_events'), 1);
});

test('a killed process reaches the events stream as app.state, and the restart after it too', async () => {
  const before = (await h.api('GET', '/api/apps/live')).body.runtime;
  const res = await fetch(`${h.url}/api/events?app=live`, { headers: { authorization: `Bearer ${h.token}` } });
  const stream = openEvents(res);
  await stream.ready();
  const events = stream.read(
    (ev) =>
      ev.some(
        (e) =>
          e.event === 'app.state' &&
          e.data.data.active_state === 'active' &&
          e.data.data.main_pid &&
          e.data.data.main_pid !== before.main_pid,
      ),
    20_000,
  );
  await h.sbx.run(['kill', '-9', String(before.main_pid)]);
  const seen = (await events).filter((e) => e.event === 'app.state').map((e) => e.data.data);
  assert.ok(
    seen.some((s) => s.active_state !== 'active' || s.main_pid === null),
    `the death was an event: ${JSON.stringify(seen)}`,
  );
  const back = seen.at(-1);
  assert.equal(back.active_state, 'active');
  assert.notEqual(back.main_pid, before.main_pid);
  assert.equal(back.restarts, before.restarts + 1);
  // What the API answers is what the signals said.
  const now = (await h.api('GET', '/api/apps/live')).body.runtime;
  assert.equal(now.main_pid, back.main_pid);
});

test('a stopped app is stopped in its health at once', async () => {
  assert.equal((await h.api('POST', '/api/apps/live/stop')).status, 200);
  assert.equal(
    await until(
      () => healthOf('live'),
      (s) => s === 'stopped',
    ),
    'stopped',
  );
  assert.equal((await h.api('POST', '/api/apps/live/start')).status, 200);
  assert.equal(
    await until(
      () => healthOf('live'),
      (s) => s === 'healthy',
    ),
    'healthy',
  );
});

test('reading apps starts no process: the list, one app, its health and metrics answer from memory', async () => {
  await h.api('GET', '/api/apps');
  await h.api('GET', '/api/apps/live');
  const before = await metric('pocketd_child_processes_total');
  for (let i = 0; i < 25; i++) {
    const list = await h.api('GET', '/api/apps');
    assert.equal(list.body.apps[0].state, 'running');
    assert.ok(list.body.apps[0].runtime.memory_bytes > 0);
    assert.equal((await h.api('GET', '/api/apps/live')).status, 200);
    assert.equal((await h.api('GET', '/api/apps/live/health')).status, 200);
  }
  assert.equal(await metric('pocketd_child_processes_total'), before);
  // The apps page's health and sparklines for every app: one request.
  const summary = (await h.api('GET', '/api/summary?limit=5')).body;
  assert.equal(summary.apps.live.health, 'healthy');
  assert.ok(Array.isArray(summary.apps.live.samples));
});

test('a deleted app leaves the bus quiet: no unit brought back and dropped again, over and over', async () => {
  const r = await h.api('POST', '/api/apps', { name: 'brief' });
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
  assert.equal((await h.api('DELETE', '/api/apps/brief?purge=true')).body.status, 'success');
  await sleep(1500);
  const before = await metric('pocketd_systemd_bus_messages_total');
  await sleep(2000);
  // Reading /metrics asks for the live app's memory and CPU: two calls a read at most.
  assert.ok(
    (await metric('pocketd_systemd_bus_messages_total')) - before <= 4,
    'no traffic with systemd while nothing changes',
  );
  assert.deepEqual(
    (await h.api('GET', '/api/apps')).body.apps.map((a: any) => a.name),
    ['live'],
  );
});

test("without systemd's D-Bus, pocketd reads with systemctl and its health check says so", async () => {
  const dropin = '/etc/systemd/system/pocketd.service.d/bus.conf';
  await h.sbx.writeFile(dropin, '[Service]\nEnvironment=POCKETD_SYSTEMD_BUS=unix:path=/run/no-such-bus\n');
  await h.sbx.run(['systemctl', 'daemon-reload']);
  try {
    await h.killDaemon();
    const checks = (await h.api('GET', '/api/validate/system')).body;
    const c = checks.checks.find((x: any) => x.name === 'systemd_events');
    assert.equal(c.ok, false);
    assert.match(c.message, /systemctl/);
    assert.equal((await h.api('GET', '/api/system/health')).status, 503);
    assert.equal((await h.api('GET', '/api/apps')).body.apps[0].state, 'running');
    assert.equal(await metric('pocketd_systemd_events'), 0);
  } finally {
    await h.sbx.run(['rm', '-f', dropin]);
    await h.sbx.run(['systemctl', 'daemon-reload']);
    await h.killDaemon();
  }
  assert.equal(await metric('pocketd_systemd_events'), 1);
});
