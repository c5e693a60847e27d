import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { openEvents } from '../support/events.js';
import { PB_LATEST } from '../support/pocketbase.js';
import { buildZip } from '../support/zip.js';
import { openRealtime } from '../support/realtime.js';
import { appCode } from '../support/app-code.js';

/**
 * Issue #28: an idle app sleeps (its unit stops, a socket holds its port) and its first request
 * wakes it, held rather than failed. Real systemd, real Caddy, real PocketBase; the sandbox's
 * pocketd lets an app sleep after 2 s (`sleep_min_seconds`), the API's bound is a minute.
 */

let h: PocketdHost;
before(async () => {
  h = await setupPocketdHost({ settings: { sleep_min_seconds: '2', health_interval_seconds: '1' } });
});
after(async () => {
  await h?.stop();
});

const state = async (name: string) => (await h.api('GET', `/api/apps/${name}`)).body.state as string;
async function until(name: string, want: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await state(name)) === want) return;
    await sleep(100);
  }
  throw new Error(`${name} never became ${want} (it is ${await state(name)})`);
}
const active = async (unit: string) => (await h.sbx.exec(['systemctl', 'is-active', unit])).stdout.trim();
/** When the app's process last started (systemd's clock): unchanged while nothing woke it. */
const startedAt = async (name: string) =>
  (
    await h.sbx.run(['systemctl', 'show', '-p', 'ExecMainStartTimestampMonotonic', '--value', `pb-${name}.service`])
  ).trim();

async function create(name: string) {
  const r = await h.api('POST', '/api/apps', { name, domains: [`${name}.test`], pocketbase_version: PB_LATEST });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
}
async function upload(app: string, zip: Buffer) {
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), 'bundle.zip');
  const res = await fetch(`${h.url}/api/apps/${app}/bundles`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}` },
    body: form,
  });
  assert.equal(res.status, 201);
  return ((await res.json()) as { number: number }).number;
}
const HELPER = '/usr/local/lib/pocketd/pocketd-helper';
/** The port an app that may sleep listens on itself, behind its proxy (from its installed unit). */
const wakePort = async (name: string) =>
  Number(/--http=127\.0\.0\.1:(\d+)/.exec(await h.sbx.readFile(`/etc/systemd/system/pb-${name}.service`))?.[1]);
const CRON_HOOK = 'cronAdd("tidy", "*/5 * * * *", () => { console.log("tidy") })\n';

test('an idle app sleeps, says so in the API, events and /metrics, and health checks neither wake nor alert', async () => {
  await create('nap');
  const events = openEvents(
    await fetch(`${h.url}/api/events?app=nap`, { headers: { authorization: `Bearer ${h.token}` } }),
  );
  await events.ready();
  const r = await h.api('PATCH', '/api/apps/nap', { sleep_after: '2s' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.app.sleep_after, '2s');
  assert.equal(r.body.app.config_match.match, true, JSON.stringify(r.body.app.config_match));
  await until('nap', 'sleeping');
  assert.equal(await active('pb-nap.service'), 'inactive');
  assert.equal(await active('pb-nap.socket'), 'active');
  assert.equal((await h.sbx.exec(['pgrep', '-u', 'pb-nap'])).stdout.trim(), '', 'no process of the app while asleep');
  const seen = await events.read(
    (ev) => ev.some((e) => e.event === 'app.state' && e.data.data.state === 'sleeping'),
    10_000,
  );
  assert.ok(
    seen.some((e) => e.event === 'app.state' && e.data.data.state === 'sleeping'),
    JSON.stringify(seen),
  );
  // Health checks run every second here: several rounds while asleep, and nothing woke it.
  const slept = await startedAt('nap');
  await sleep(4000);
  assert.equal(await state('nap'), 'sleeping');
  assert.equal(await startedAt('nap'), slept, 'a health check woke the app');
  const health = (await h.api('GET', '/api/apps/nap/health')).body;
  assert.equal(health.state, 'sleeping');
  assert.equal(health.consecutive_failures, 0);
  const incidents = (await h.api('GET', '/api/alerts/incidents?open=true')).body.incidents as any[];
  assert.deepEqual(
    incidents.filter((i) => i.app === 'nap'),
    [],
  );
  const metrics = await (await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${h.token}` } })).text();
  assert.match(metrics, /^pocketd_app_sleeping\{app="nap"\} 1$/m);
  assert.doesNotMatch(metrics, /^pocketd_app_healthy\{app="nap"\}/m);
  const list = (await h.api('GET', '/api/apps?status=sleeping')).body.apps as any[];
  assert.deepEqual(
    list.map((a) => a.name),
    ['nap'],
  );
});

test('the first request through Caddy wakes it and answers 200; 60 at once all answer', async () => {
  await until('nap', 'sleeping');
  const t0 = Date.now();
  const first = await h.viaCaddy('nap.test');
  assert.equal(first.status, 200);
  console.log(`wake through Caddy: ${Date.now() - t0} ms`);
  assert.equal(await state('nap'), 'running');
  await until('nap', 'sleeping');
  const all = await Promise.all(Array.from({ length: 60 }, () => h.viaCaddy('nap.test').catch(() => ({ status: 0 }))));
  assert.deepEqual(
    all.filter((x) => x.status !== 200).map((x) => x.status),
    [],
  );
});

test('an open realtime subscription keeps it awake', async () => {
  await until('nap', 'sleeping');
  const rt = await openRealtime(h.sbx.caddy.httpPort, 'nap.test');
  assert.equal(rt.status, 200);
  await sleep(5000);
  assert.equal(await state('nap'), 'running', 'the app slept under an open realtime connection');
  rt.close();
  await until('nap', 'sleeping');
});

test('stopped is not asleep: the socket closes, a request does not wake it; start brings it back', async () => {
  const stop = await h.api('POST', '/api/apps/nap/stop');
  assert.equal(stop.status, 200, JSON.stringify(stop.body));
  assert.equal(stop.body.state, 'stopped');
  assert.equal(await active('pb-nap.socket'), 'inactive');
  assert.notEqual((await h.viaCaddy('nap.test').catch(() => ({ status: 0 }))).status, 200);
  assert.equal(await active('pb-nap.service'), 'inactive');
  const start = await h.api('POST', '/api/apps/nap/start');
  assert.equal(start.body.state, 'running');
  assert.equal((await h.viaCaddy('nap.test')).status, 200);
});

test('a backup works on the app asleep; a deploy wakes it for its health gate; it sleeps again', async () => {
  await until('nap', 'sleeping');
  const slept = await startedAt('nap');
  const b = await h.api('POST', '/api/apps/nap/backups', {});
  assert.equal(b.status, 201, JSON.stringify(b.body));
  assert.equal(b.body.status, 'ready');
  assert.equal(await startedAt('nap'), slept, 'the backup woke the app');
  const n = await upload('nap', buildZip([{ name: 'pb_public/index.html', data: '<h1>awake</h1>' }]));
  const d = await h.api('POST', '/api/apps/nap/deploy', { bundle: n });
  assert.equal((await h.waitDeployment(d.body.deployment_id)).status, 'success');
  const page = await h.viaCaddy('nap.test', '/');
  assert.match(String(page.body), /awake/);
  await until('nap', 'sleeping');
});

test('hooks that schedule jobs: the app is refused sleep (422), and a sleeping app refuses such a bundle', async () => {
  await create('tick');
  const n = await upload('tick', buildZip([{ name: 'pb_hooks/jobs.pb.js', data: CRON_HOOK }]));
  const d = await h.api('POST', '/api/apps/tick/deploy', { bundle: n });
  assert.equal((await h.waitDeployment(d.body.deployment_id)).status, 'success');
  const r = await h.api('PATCH', '/api/apps/tick', { sleep_after: '2s' });
  assert.equal(r.status, 422, JSON.stringify(r.body));
  assert.equal(r.body.error.fields[0].field, 'sleep_after');
  assert.match(r.body.error.fields[0].message, /pb_hooks\/jobs\.pb\.js.*cronAdd/);
  assert.equal(await active('pb-tick.socket'), 'inactive');
  const cron = await upload('nap', buildZip([{ name: 'pb_hooks/jobs.pb.js', data: CRON_HOOK }]));
  const refused = await h.api('POST', '/api/apps/nap/deploy', { bundle: cron });
  assert.equal(refused.status, 422, JSON.stringify(refused.body));
  assert.equal(refused.body.error.fields[0].field, 'bundle');
  // The public bound: a second is below the sandbox's 2 s minimum; a bad spelling names the field.
  for (const bad of ['1s', '15 minutes', 'on']) {
    const x = await h.api('PATCH', '/api/apps/nap', { sleep_after: bad });
    assert.equal(x.status, 422, bad);
    assert.equal(x.body.error.fields[0].field, 'sleep_after');
  }
});

test('systemd-analyze security scores the sleeping app unit and its proxy at most 2.0', async () => {
  for (const unit of ['pb-nap.service', 'pbwake-nap.service']) {
    const out = await h.sbx.run(['systemd-analyze', 'security', '--no-pager', unit]);
    const score = Number(
      new RegExp(`Overall exposure level for ${unit.replace('.', '\\.')}: ([\\d.]+)`).exec(out)?.[1],
    );
    assert.ok(
      score <= 2.0,
      `${unit}: ${score}\n${out
        .split('\n')
        .filter((l) => l.includes('✗'))
        .join('\n')}`,
    );
    console.log(`systemd-analyze security ${unit}: ${score}`);
  }
  const verify = await h.sbx.exec(['systemd-analyze', 'verify', '/etc/systemd/system/pb-nap.socket']);
  assert.equal(verify.code, 0, verify.stderr);
});

test("from the daemon's seat: root refuses a wake port that is another app's, or outside root's range", async () => {
  const napPort = (await h.api('GET', '/api/apps/nap')).body.port as number;
  const wake = await wakePort('nap');
  const tickPort = (await h.api('GET', '/api/apps/tick')).body.port as number;
  for (const app_port of [napPort, wake, 80, 30000]) {
    const spec = {
      port: tickPort,
      version: PB_LATEST,
      memory_max: null,
      cpu_quota: null,
      sleep: { after_seconds: 60, app_port },
    };
    const r = await h.sbx.exec(['sudo', '-n', HELPER, 'install-unit', 'tick'], {
      user: 'pocketd',
      input: JSON.stringify(spec),
    });
    assert.equal(r.code, 65, `${app_port}: ${r.stderr}`);
    assert.match(r.stderr, /sleep\.app_port/);
  }
  assert.equal(await h.sbx.exists('/etc/systemd/system/pb-tick.socket'), false);
});

test("from an app's seat: another app that takes a sleeping app's port does not get its requests", async () => {
  await until('nap', 'sleeping');
  const wake = await wakePort('nap');
  const squat = await appCode(
    h.sbx,
    'tick',
    `exec python3 -c 'import http.server as h
class H(h.BaseHTTPRequestHandler):
  def do_GET(s):
    s.send_response(200); s.end_headers(); s.wfile.write(b"intercepted")
h.HTTPServer(("127.0.0.1", ${wake}), H).serve_forever()'`,
    { background: true },
  );
  try {
    for (let i = 0; i < 50 && !(await h.sbx.exec(['ss', '-Hltn', `sport = :${wake}`])).stdout.trim(); i++)
      await sleep(100);
    const r = await h.viaCaddy('nap.test').catch((e: Error) => ({ status: 0, body: e.message }));
    assert.doesNotMatch(String(r.body), /intercepted/);
    assert.notEqual(r.status, 200);
  } finally {
    await h.sbx.run(['systemctl', 'stop', squat.unit]);
  }
  const start = await h.api('POST', '/api/apps/nap/start');
  assert.equal(start.body.state, 'running', JSON.stringify(start.body));
  assert.equal((await h.viaCaddy('nap.test')).status, 200);
});

test('sleep off: the socket and proxy go, the app listens on its port again and stays up', async () => {
  const r = await h.api('PATCH', '/api/apps/nap', { sleep_after: 'off' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.app.sleep_after, null);
  assert.equal(r.body.app.state, 'running');
  assert.equal(r.body.app.config_match.match, true, JSON.stringify(r.body.app.config_match));
  assert.equal(await h.sbx.exists('/etc/systemd/system/pb-nap.socket'), false);
  assert.equal(await h.sbx.exists('/etc/systemd/system/pbwake-nap.service'), false);
  assert.equal((await h.viaCaddy('nap.test')).status, 200);
  await sleep(4000);
  assert.equal(await state('nap'), 'running');
});
