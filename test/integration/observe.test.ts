import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEvents, readEvents } from '../support/events.js';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { until } from '../support/until.js';
import { seedApp } from '../support/pb-app.js';

let h: PocketdHost;
let port = 0;
before(async () => {
  h = await setupPocketdHost({
    settings: { health_interval_seconds: '1', health_restart_after: '6', metrics_interval_seconds: '1' },
  });
  const r = await h.api('POST', '/api/apps', { name: 'watch', domains: ['watch.test'] });
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
  port = r.body.port;
  // The test hooks (print, grow, sick) in the real PocketBase.
  await seedApp(h, 'watch');
});

/** Lines printed by PocketBase's JS hooks: console.log goes to stdout, console.error to stderr. */
const print = (msg: string, stream = 'out') =>
  fetch(`http://127.0.0.1:${port}/_test/print?stream=${stream}&msg=${encodeURIComponent(msg)}`).then((r) => {
    assert.equal(r.status, 200);
  });
after(async () => {
  await h?.stop();
});

test('lines the app prints appear in the logs with their level', async () => {
  const tag = `mark-${Date.now()}`;
  // The journal gives stdout and stderr one priority, and PocketBase adds no level word: a level word the app's
  // own code writes is what tells, and a line without one is info wherever it was written.
  await print(`ERROR ${tag}-e`, 'err');
  await print(`WARN ${tag}-w`, 'err');
  await print(`${tag}-i`, 'err');
  let entries: any[] = [];
  for (let i = 0; i < 50 && entries.length < 3; i++) {
    entries = (await h.api('GET', `/api/apps/watch/logs?q=${tag}`)).body.entries;
    if (entries.length < 3) await sleep(100);
  }
  assert.deepEqual(
    entries.map((e) => [e.message.slice(-tag.length - 2), e.level]),
    [
      [`${tag}-e`, 'error'],
      [`${tag}-w`, 'warn'],
      [`${tag}-i`, 'info'],
    ],
  );
  // Go's log prefix stays in the message: PocketBase's own timestamp.
  assert.match(entries[0].message, /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} ERROR /);
  assert.ok(entries.every((e) => e.pid > 0 && !Number.isNaN(Date.parse(e.timestamp))));
  const started = (await h.api('GET', '/api/apps/watch/logs?lines=500')).body.entries;
  assert.ok(started.some((e: any) => /Server started at/.test(e.message) && e.level === 'info'));
  // PocketBase 0.23+ prints a superuser-installer link at start; its token never reaches a log reader.
  const link = started.find((e: any) => e.message.includes('/_/#/pbinstall/'));
  assert.ok(link, 'the installer link is printed');
  assert.match(link.message, /\/_\/#\/pbinstall\/\[masked\]$/);
  assert.ok(!started.some((e: any) => /pbinstall\/eyJ/.test(e.message)));
  const two = (await h.api('GET', '/api/apps/watch/logs?lines=2')).body.entries;
  assert.equal(two.length, 2);
});

test('logs of a name that is not an app are 404; bad parameters 422', async () => {
  assert.equal((await h.api('GET', '/api/apps/caddy/logs')).status, 404);
  assert.equal((await h.api('GET', '/api/apps/..%2Fx/logs')).status, 422);
  for (const q of ['lines=0', 'lines=100001', 'since=--help', 'priority=9', 'q=%0A', 'bogus=1']) {
    assert.equal((await h.api('GET', `/api/apps/watch/logs?${q}`)).status, 422, q);
  }
});

test('follow delivers a new line within a second and ends its journal reader when the client leaves', async () => {
  const ctrl = new AbortController();
  const res = await fetch(`${h.url}/api/apps/watch/logs?follow=1&lines=1`, {
    headers: { authorization: `Bearer ${h.token}` },
    signal: ctrl.signal,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  // The journal reader says nothing when it begins to follow: wait until its journalctl runs, and a moment more.
  await until(
    async () => (await h.sbx.exec(['pgrep', '-f', 'journalctl -u pb-watch.service -o json --all -f'])).stdout.trim(),
    (pids) => pids !== '',
  );
  await sleep(300);
  const tag = `live-${Date.now()}`;
  const t0 = Date.now();
  await print(tag);
  const events = await readEvents(res, (ev) => ev.some((e) => e.data?.message?.includes(tag)), 3000);
  const hit = events.find((e) => e.data?.message?.includes(tag));
  assert.ok(hit, 'the new line arrived');
  assert.ok(Date.now() - t0 < 1500, `arrived after ${Date.now() - t0} ms`);
  ctrl.abort();
  let readers = '';
  for (let i = 0; i < 30; i++) {
    readers = (await h.sbx.exec(['pgrep', '-f', 'journalctl -u pb-watch.service -o json --all -f'])).stdout.trim();
    if (!readers) break;
    await sleep(100);
  }
  assert.equal(readers, '', 'no journalctl -f left');
});

test('events stream app changes; a client that reconnects with Last-Event-ID gets what it missed', async () => {
  const res = await fetch(`${h.url}/api/events?app=watch`, { headers: { authorization: `Bearer ${h.token}` } });
  const stream = openEvents(res);
  await stream.ready();
  const pending = stream.read((ev) => ev.some((e) => e.event === 'app.restarted'), 15_000);
  assert.equal((await h.api('POST', '/api/apps/watch/restart')).status, 200);
  const events = await pending;
  const restarted = events.find((e) => e.event === 'app.restarted');
  assert.ok(restarted?.id, JSON.stringify(events));
  // Missed while away: a stop and a start.
  await h.api('POST', '/api/apps/watch/stop');
  await h.api('POST', '/api/apps/watch/start');
  const again = await fetch(`${h.url}/api/events?app=watch`, {
    headers: { authorization: `Bearer ${h.token}`, 'last-event-id': restarted!.id! },
  });
  const replay = await readEvents(again, (ev) => ev.some((e) => e.event === 'app.started'), 5000);
  // Scheduled health checks may add app.health events in between, and each control is a deployment with its own
  // deployment.* events; the missed state changes come back in order.
  const types = replay
    .filter(
      (e) =>
        e.id &&
        e.event?.startsWith('app.') &&
        e.event !== 'app.health' &&
        e.event !== 'app.state' &&
        e.event !== 'app.gate_passed',
    )
    .map((e) => e.event);
  assert.ok(
    replay.some((e) => e.event === 'deployment.queued'),
    'the stop and the start were deployments in the queue',
  );
  assert.deepEqual(types, ['app.stopped', 'app.started']);
  assert.ok(replay.filter((e) => e.id).every((e) => Number(e.id) > Number(restarted!.id)));
});

test('health checks: healthy, a killed process shows as a restart and a health event, a stopped app reports stopped', async () => {
  let health: any;
  for (let i = 0; i < 50; i++) {
    health = (await h.api('GET', '/api/apps/watch/health')).body;
    if (health.state === 'healthy') break;
    await sleep(200);
  }
  assert.equal(health.state, 'healthy');
  assert.ok(health.history.length > 0 && health.history[0].http_status === 200 && health.history[0].latency_ms >= 0);

  const before = (await h.api('GET', '/api/apps/watch')).body.runtime;
  const res = await fetch(`${h.url}/api/events?app=watch`, { headers: { authorization: `Bearer ${h.token}` } });
  const stream = openEvents(res);
  await stream.ready();
  const pending = stream.read(
    (ev) =>
      ev.some((e) => e.event === 'app.health' && e.data.data.to === 'healthy' && e.data.data.from === 'unhealthy'),
    20_000,
  );
  await h.sbx.run(['kill', '-9', String(before.main_pid)]);
  const events = await pending;
  assert.ok(
    events.some((e) => e.event === 'app.health' && e.data.data.to === 'unhealthy'),
    JSON.stringify(events.map((e) => e.event)),
  );
  const after = (await h.api('GET', '/api/apps/watch')).body.runtime;
  assert.equal(after.restarts, before.restarts + 1);
  assert.notEqual(after.main_pid, before.main_pid);

  await h.api('POST', '/api/apps/watch/stop');
  for (let i = 0; i < 50; i++) {
    health = (await h.api('GET', '/api/apps/watch/health')).body;
    if (health.state === 'stopped') break;
    await sleep(200);
  }
  assert.equal(health.state, 'stopped');
  assert.equal((await h.api('GET', '/api/apps/nope/health')).status, 404);
  await h.api('POST', '/api/apps/watch/start');
});

test('metrics: samples of the app change when its memory grows; host metrics come back', async () => {
  await until(
    async () => (await h.api('GET', '/api/apps/watch/health')).body.state,
    (s) => s === 'healthy',
  );
  const samples = async () => (await h.api('GET', '/api/apps/watch/metrics')).body.samples as any[];
  const first = await until(samples, (s) => s.slice(-2).every((x) => x.active && x.memory_bytes > 0 && x.cpu_ns > 0));
  const base = first.filter((x) => x.active).at(-1);
  assert.ok(base.cpu_ns > 0 && base.restarts >= 0 && (base.cpu_percent === null || base.cpu_percent >= 0));
  const grown = await fetch(`http://127.0.0.1:${port}/_test/grow?mb=96`).then((r) => r.json() as Promise<any>);
  assert.ok(grown.held_mb >= 96);
  const after = await until(samples, (s) => (s.at(-1)?.memory_bytes ?? 0) > base.memory_bytes + 80 * 1024 * 1024);
  assert.ok(after.at(-1).memory_bytes - base.memory_bytes > 80 * 1024 * 1024);

  const since = new Date(Date.now() - 1500).toISOString();
  const recent = (await h.api('GET', `/api/apps/watch/metrics?since=${encodeURIComponent(since)}`)).body
    .samples as any[];
  assert.ok(recent.length >= 1 && recent.every((x) => x.at >= since), JSON.stringify(recent));
  assert.equal((await h.api('GET', '/api/apps/watch/metrics?since=yesterday')).status, 422);
  assert.equal((await h.api('GET', '/api/apps/nope/metrics')).status, 404);

  const sys = (await h.api('GET', '/api/system/metrics?limit=5')).body;
  assert.ok(
    sys.current.memory_total > sys.current.memory_available && sys.current.disk_total > 0 && sys.current.cpus >= 1,
    JSON.stringify(sys.current),
  );
  assert.ok(sys.samples.length >= 1 && sys.samples.length <= 5);
});

test('GET /metrics is Prometheus text and needs a token', async () => {
  assert.equal((await fetch(`${h.url}/metrics`)).status, 401);
  const res = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${h.token}` } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const values = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)$/.exec(line);
    if (t) {
      typed.add(t[1]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+]+|NaN)$/.exec(
        line,
      );
    assert.ok(m, `not exposition format: ${line}`);
    assert.ok(typed.has(m[1]!), `no TYPE before ${m[1]}`);
    values.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  assert.equal(values.get('pocketd_app_up{app="watch"}'), 1);
  assert.ok((values.get('pocketd_app_memory_bytes{app="watch"}') ?? 0) > 0);
  assert.ok((values.get('pocketd_app_cpu_seconds_total{app="watch"}') ?? 0) > 0);
  assert.ok((values.get('pocketd_host_memory_total_bytes') ?? 0) > 0);
  assert.ok((values.get('pocketd_deployments{status="success"}') ?? 0) >= 1);
});

test('after health_restart_after failed checks in a row pocketd restarts the app and records it', async () => {
  await until(
    async () => (await h.api('GET', '/api/apps/watch/health')).body.state,
    (s) => s === 'healthy',
  );
  const before = (await h.api('GET', '/api/apps/watch')).body.runtime;
  const res = await fetch(`${h.url}/api/events?app=watch`, { headers: { authorization: `Bearer ${h.token}` } });
  const stream = openEvents(res);
  await stream.ready();
  const pending = stream.read((ev) => ev.some((e) => e.event === 'app.auto_restarted'), 30_000);
  assert.equal((await fetch(`http://127.0.0.1:${port}/_test/sick`)).status, 200);
  const events = await pending;
  const restart = events.find((e) => e.event === 'app.auto_restarted');
  assert.ok(restart, JSON.stringify(events.map((e) => e.event)));
  assert.equal(restart.data.data.failures, 6);
  const after = await until(
    async () => (await h.api('GET', '/api/apps/watch')).body.runtime,
    (r) => r.main_pid !== before.main_pid && r.active_state === 'active',
  );
  assert.notEqual(after.main_pid, before.main_pid);
  // The new process is not sick: the app turns healthy again.
  await until(
    async () => (await h.api('GET', '/api/apps/watch/health')).body.state,
    (s) => s === 'healthy',
  );
});

test("PocketBase's own failure lines are errors: a hook file that does not load", async () => {
  const dir = '/var/lib/pocketd-apps/watch/pb_hooks';
  await h.sbx.run(['sh', '-c', 'echo "routerAdd(\\"GET\\", \\"/x\\", (c) => {" > "$0"', `${dir}/broken.pb.js`], {
    user: 'pb-watch',
  });
  try {
    assert.equal((await h.api('POST', '/api/apps/watch/restart')).status, 200);
    const failed = await until(
      async () => (await h.api('GET', '/api/apps/watch/logs?q=broken.pb.js&lines=20')).body.entries as any[],
      (e) => e.some((x) => /failed to execute broken\.pb\.js/i.test(x.message)),
    );
    assert.ok(failed.filter((x) => /failed to execute broken/i.test(x.message)).every((x) => x.level === 'error'));
  } finally {
    // Last in the file: PocketBase's own watcher of pb_hooks restarts it when the file goes, besides this restart.
    await h.sbx.run(['rm', '-f', `${dir}/broken.pb.js`], { user: 'pb-watch' });
    await h.api('POST', '/api/apps/watch/restart');
  }
});
