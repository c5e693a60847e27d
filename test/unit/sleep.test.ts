import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTemplates } from '../../src/shared/render.js';
import { unitContext, type AppLayout } from '../../src/shared/templates.js';
import { unitSpecSchema } from '../../src/shared/protocol.js';
import { formatDuration, parseDuration, sleepAfterSchema } from '../../src/core/sleep/sleep-after.js';
import { cronHooksOf } from '../../src/core/sleep/cron-hooks.js';
import { isAsleep, probePortOf } from '../../src/core/sleep/sleep-state.js';
import { patchAppSchema } from '../../src/core/apps/model.js';
import { buildZip } from '../support/zip.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const t = createTemplates(path.join(root, 'templates'));
const layout: AppLayout = {
  apps_dir: '/var/lib/pocketd-apps',
  releases_dir: '/var/lib/pocketd-releases',
  env_dir: '/etc/pocketd/env',
  data_dir: '/var/lib/pocketd',
};
const golden = (file: string, actual: string) => {
  const p = path.join(root, 'test', 'fixtures', 'golden', file);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(p, actual);
  assert.equal(actual, readFileSync(p, 'utf8'), `${file} differs from its golden file (UPDATE_GOLDEN=1 to rewrite)`);
};
const spec = { port: 20001, version: '0.23.1', memory_max: null, cpu_quota: null };
const sleeping = unitContext(layout, 'blog', { ...spec, sleep: { after_seconds: 900, app_port: 20002 } });

test('an app that may sleep: its unit listens behind the proxy, runs while the proxy needs it, started means listening', () => {
  const unit = t.renderUnit(sleeping);
  golden('unit-sleep.service', unit);
  assert.match(unit, /--http=127\.0\.0\.1:20002 /);
  assert.match(unit, /^StopWhenUnneeded=yes$/m);
  // 20002 is 4E22: the port in /proc/net/tcp, listening (0A), owned by the app itself.
  assert.match(unit, /^ExecStartPost=.*0100007F:4E22 && \$\$s == 0A && \$\$u == \$\$own/m);
  const wake = t.renderWake(sleeping)!;
  golden('wake.socket', wake.socket);
  golden('wake.service', wake.service);
  assert.match(wake.socket, /^ListenStream=127\.0\.0\.1:20001$/m);
  assert.match(wake.socket, /^Service=pbwake-blog\.service$/m);
  assert.match(wake.service, /--exit-idle-time=900s 127\.0\.0\.1:20002$/m);
  // The proxy runs as the app, in the app's own sandbox.
  assert.match(wake.service, /^User=pb-blog$/m);
  assert.match(wake.service, /^ProtectProc=invisible$/m);
  assert.match(wake.service, /^Requires=pb-blog\.socket pb-blog\.service$/m);
});

test('an app that never sleeps renders exactly as before, with no socket or proxy', () => {
  const plain = unitContext(layout, 'blog', spec);
  assert.equal(t.renderWake(plain), null);
  const unit = t.renderUnit(plain);
  assert.doesNotMatch(unit, /StopWhenUnneeded|ExecStartPost|pbwake/);
  assert.match(unit, /--http=127\.0\.0\.1:20001 /);
});

test("a sleeping app's site keeps idle connections briefly; others keep Caddy's default", () => {
  const site = { name: 'blog', addresses: ['blog.test'], port: 20001, body_max: '64MB', tls_internal: false };
  assert.match(t.renderSite({ ...site, sleep: true }), /keepalive 2s/);
  assert.doesNotMatch(t.renderSite({ ...site, sleep: false }), /keepalive/);
});

test("root's spec refuses a wake port equal to the app's port and an idle time out of bounds", () => {
  const bad = [
    { ...spec, sleep: { after_seconds: 60, app_port: 20001 } },
    { ...spec, sleep: { after_seconds: 0, app_port: 20002 } },
    { ...spec, sleep: { after_seconds: 86_401, app_port: 20002 } },
    { ...spec, sleep: { after_seconds: 60, app_port: 80 } },
    { ...spec, sleep: { after_seconds: 60, app_port: 20002, extra: 1 } },
  ];
  for (const b of bad) assert.equal(unitSpecSchema.safeParse(b).success, false, JSON.stringify(b));
  assert.equal(unitSpecSchema.parse(spec).sleep, null);
});

test('sleep_after takes durations, seconds and off, within a minute and a day', () => {
  assert.equal(parseDuration('15m'), 900);
  assert.equal(formatDuration(900), '15m');
  assert.equal(formatDuration(7200), '2h');
  assert.equal(formatDuration(90), '90s');
  assert.equal(sleepAfterSchema.parse('2h'), 7200);
  assert.equal(sleepAfterSchema.parse('off'), null);
  assert.equal(sleepAfterSchema.parse(null), null);
  assert.equal(sleepAfterSchema.parse(600), 600);
  for (const bad of ['30s', '25h', '15 m', '15min', '-1m', '1m\n', 'on', 10, 1.5, true]) {
    const r = patchAppSchema.safeParse({ sleep_after: bad });
    assert.equal(r.success, false, JSON.stringify(bad));
    assert.deepEqual(r.error?.issues[0]?.path, ['sleep_after']);
  }
});

test('hooks that schedule jobs are found in a bundle; other code and other files are not', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pocketd-cron-'));
  try {
    const file = path.join(dir, 'b.zip');
    writeFileSync(
      file,
      buildZip([
        { name: 'pb_hooks/', mode: 0o040755 },
        { name: 'pb_hooks/a.pb.js', data: 'routerAdd("GET", "/x", (e) => e.string(200, "cronAdd"))' },
        { name: 'pb_hooks/jobs.pb.js', data: 'cronAdd("tidy", "*/5 * * * *", () => {})', deflate: true },
        { name: 'pb_hooks/sub/v23.pb.js', data: '$app.cron( ).add("x", "* * * * *", () => {})' },
        { name: 'pb_public/cron.pb.js', data: 'cronAdd("no", "* * * * *", () => {})' },
        { name: 'pb_hooks/notes.txt', data: 'cronAdd("no", "* * * * *", () => {})' },
      ]),
    );
    assert.deepEqual(await cronHooksOf(file), ['pb_hooks/jobs.pb.js', 'pb_hooks/sub/v23.pb.js']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('asleep is the socket listening while the unit rests; failed or stopped is not asleep', () => {
  const on = { sleep_after: 60 };
  assert.equal(isAsleep(on, { active_state: 'inactive' }, { active_state: 'active' }), true);
  assert.equal(isAsleep(on, { active_state: 'failed' }, { active_state: 'active' }), false);
  assert.equal(isAsleep(on, { active_state: 'inactive' }, { active_state: 'inactive' }), false);
  assert.equal(isAsleep(on, { active_state: 'active' }, { active_state: 'active' }), false);
  assert.equal(isAsleep({ sleep_after: null }, { active_state: 'inactive' }, { active_state: 'active' }), false);
  assert.equal(probePortOf({ port: 1, wake_port: 2, sleep_after: 60 }), 2);
  assert.equal(probePortOf({ port: 1, wake_port: null, sleep_after: null }), 1);
});
