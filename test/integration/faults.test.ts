import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { DEFAULT_RELEASES, STANDIN } from '../support/release-mirror.js';
import { notesOf, runningVersion, seedApp } from '../support/pb-app.js';
import { PB_LATEST, PB_PREV } from '../support/pocketbase.js';
import { buildZip } from '../support/zip.js';

// SIGKILL of the daemon at every step of a create, an upgrade, a bundle deploy
// and a delete; CI kills at a spread of steps unless FAULTS_FULL=1.
const FULL = process.env.FAULTS_FULL === '1';
const PAUSE_MS = 400;

let h: PocketdHost;
before(async () => {
  h = await setupPocketdHost({
    // 0.29.96: an archive of garbage (no executable, real or stand-in, is in it).
    releases: [...DEFAULT_RELEASES, { version: '0.29.96', garbage: true }],
    settings: { health_timeout_seconds: '8', step_pause_ms: String(PAUSE_MS) },
  });
  const r = await h.api('POST', '/api/apps', {
    name: 'keeper',
    domains: ['keeper.test'],
    pocketbase_version: PB_PREV,
  });
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
  // The notes collection and the test hooks, in the real PocketBase.
  await seedApp(h, 'keeper');
});
after(async () => {
  await h?.stop();
});

const appPort = async (name: string) => (await h.api('GET', `/api/apps/${name}`)).body.port as number;
const note = async (name: string, text: string) => notesOf(await appPort(name)).add(text);
const notes = async (name: string) => notesOf(await appPort(name)).list();

async function waitHealthy(name: string) {
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${await appPort(name)}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(100);
  }
  assert.fail(`${name} is not healthy`);
}

/** The host and the store agree: every app in the store has its files and runs as it should; no other app has any. */
async function assertConsistent(context: string) {
  const apps = (await h.api('GET', '/api/apps')).body.apps as any[];
  for (const a of apps) {
    assert.equal(a.status, 'ready', `${context}: ${a.name} is ${a.status}`);
    const d = (await h.api('GET', `/api/apps/${a.name}`)).body;
    assert.equal(d.config_match.match, true, `${context}: ${a.name} drifted ${JSON.stringify(d.config_match)}`);
    if (a.desired_state === 'running') {
      assert.equal(a.state, 'running', `${context}: ${a.name} is ${a.state}`);
      await waitHealthy(a.name);
    }
  }
  const names = new Set(apps.map((a) => a.name));
  const units = (await h.sbx.run(['sh', '-c', 'ls /etc/systemd/system | sed -n "s/^pb-\\(.*\\)\\.service$/\\1/p"']))
    .split('\n')
    .filter(Boolean);
  const dirs = (await h.sbx.run(['sh', '-c', 'ls /var/lib/pocketd-apps'])).split('\n').filter(Boolean);
  const sites = (await h.sbx.run(['sh', '-c', 'ls /etc/caddy/pocketd | sed -n "s/\\.caddy$//p"']))
    .split('\n')
    .filter(Boolean);
  const envs = (await h.sbx.run(['sh', '-c', 'ls /etc/pocketd/env | sed -n "s/\\.env$//p"']))
    .split('\n')
    .filter(Boolean);
  for (const [what, list] of [
    ['unit', units],
    ['app dir', dirs],
    ['site', sites],
    ['env', envs],
  ] as const) {
    for (const n of list) assert.ok(names.has(n), `${context}: ${what} of ${n} is left without an app`);
  }
  for (const n of names)
    assert.ok(units.includes(n) && dirs.includes(n) && envs.includes(n), `${context}: ${n} lacks its files`);
  const staged = (
    await h.sbx.run([
      'sh',
      '-c',
      'ls -A /var/lib/pocketd/staging; ls -A /var/lib/pocketd/bundles/* 2>/dev/null | grep upload || true',
    ])
  ).trim();
  assert.equal(staged, '', `${context}: staging left ${staged}`);
  for (const a of apps) {
    const creating = (await h.api('GET', `/api/apps/${a.name}/backups`)).body.backups.filter(
      (b: any) => b.status === 'creating',
    );
    assert.deepEqual(creating, [], `${context}: a backup of ${a.name} is left half-made`);
  }
  const partial = (
    await h.sbx.run(['sh', '-c', 'ls -A /var/lib/pocketd-apps/.backups/* 2>/dev/null | grep partial || true'])
  ).trim();
  assert.equal(partial, '', `${context}: partial backup files left`);
  const running = (await h.api('GET', '/api/deployments?status=running')).body.deployments;
  assert.deepEqual(running, [], `${context}: deployments still running`);
}

async function killDaemonAt(id: number, step: string) {
  await h.waitStep(id, step);
  await h.killDaemon();
  return h.waitDeployment(id);
}

const pick = (steps: string[]) => (FULL ? steps : steps.filter((_, i) => i % 3 === 1 || i === steps.length - 2));

test('SIGKILL at each step of an upgrade: finished or rolled back, data kept, host and store agree', async () => {
  await note('keeper', 'kept-through-upgrades');
  const steps = ['validate', 'fetch_release', 'stop', 'snapshot', 'install_release', 'start', 'wait_health', 'finish'];
  for (const step of pick(steps)) {
    // Back and forth within the 0.23+ line, which PocketBase reads both ways.
    const version = (await h.api('GET', '/api/apps/keeper')).body.version === PB_PREV ? PB_LATEST : PB_PREV;
    const r = await h.api('POST', '/api/apps/keeper/upgrade', { version, allow_downgrade: true });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const d = await killDaemonAt(r.body.deployment_id, step);
    assert.ok(
      ['success', 'rolled_back', 'failed'].includes(d.status) && d.status !== 'failed',
      `kill at ${step}: ${d.status} ${d.error}`,
    );
    await assertConsistent(`upgrade killed at ${step}`);
    const app = (await h.api('GET', '/api/apps/keeper')).body;
    const running = await runningVersion(h, 'keeper');
    assert.equal(running, app.version, `kill at ${step}: runs ${running}, store says ${app.version}`);
    assert.ok((await notes('keeper')).includes('kept-through-upgrades'), `kill at ${step}: data lost`);
  }
});

test('SIGKILL at each step of a bundle deploy', async () => {
  const form = new FormData();
  form.set(
    'file',
    new Blob([new Uint8Array(buildZip([{ name: 'pb_public/index.html', data: '<p>bundle</p>' }]))]),
    'b.zip',
  );
  const up = await fetch(`${h.url}/api/apps/keeper/bundles`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}` },
    body: form,
  }).then((r) => r.json() as Promise<any>);
  const steps = ['extract_bundle', 'stop', 'snapshot', 'install_bundle', 'start', 'wait_health'];
  for (const step of pick(steps)) {
    const before = (await h.api('GET', '/api/apps/keeper')).body.bundle;
    if (before === up.number) {
      // Back to no bundle in effect so that the deploy has work to do.
      await h.sbx.run(['sh', '-c', 'rm -f /var/lib/pocketd-apps/keeper/pb_public/index.html']);
      await h.sbx.run(
        [
          'node',
          '-e',
          `const D=require('/srv/pocketd-src/node_modules/better-sqlite3');new D('/var/lib/pocketd/pocketd.db').prepare('update apps set bundle=null').run()`,
        ],
        { user: 'pocketd' },
      );
    }
    const r = await h.api('POST', '/api/apps/keeper/deploy', { bundle: up.number });
    const d = await killDaemonAt(r.body.deployment_id, step);
    assert.ok(['success', 'rolled_back'].includes(d.status), `kill at ${step}: ${d.status} ${d.error}`);
    await assertConsistent(`deploy killed at ${step}`);
    const page = await h.viaCaddy('keeper.test', '/');
    const bundle = (await h.api('GET', '/api/apps/keeper')).body.bundle;
    if (bundle === up.number) assert.equal(page.body, '<p>bundle</p>', `kill at ${step}: store says bundle ${bundle}`);
    else assert.notEqual(page.body, '<p>bundle</p>', `kill at ${step}: the bundle serves but the store says none`);
    assert.ok((await notes('keeper')).includes('kept-through-upgrades'));
  }
});

test('SIGKILL at each step of a create and of a delete', async () => {
  const createSteps = ['validate', 'fetch_release', 'install', 'wait_health', 'finish'];
  // The one helper call that puts the app on the host is always among them.
  for (const [i, step] of [...new Set([...pick(createSteps), 'install'])].entries()) {
    const name = `made-${i}`;
    const r = await h.api('POST', '/api/apps', { name, domains: [`${name}.test`] });
    const d = await killDaemonAt(r.body.deployment_id, step);
    assert.ok(['success', 'rolled_back'].includes(d.status), `create killed at ${step}: ${d.status} ${d.error}`);
    await assertConsistent(`create killed at ${step}`);
    const exists = (await h.api('GET', `/api/apps/${name}`)).status === 200;
    assert.equal(exists, d.status === 'success');
    if (exists) {
      const del = await h.api('DELETE', `/api/apps/${name}?purge=true`);
      assert.equal(del.body.status, 'success');
    }
  }
  const deleteSteps = ['remove_unit', 'remove_site', 'remove_env', 'archive_data', 'forget'];
  for (const [i, step] of pick(deleteSteps).entries()) {
    const name = `gone-${i}`;
    const c = await h.api('POST', '/api/apps', { name, domains: [`${name}.test`] });
    assert.equal((await h.waitDeployment(c.body.deployment_id)).status, 'success');
    const pending = h.api('DELETE', `/api/apps/${name}`).catch(() => null);
    await sleep(100);
    const id = (await h.api('GET', `/api/deployments?app=${name}&limit=1`)).body.deployments[0].id;
    const d = await killDaemonAt(id, step);
    await pending;
    assert.equal(d.status, 'success', `delete killed at ${step}: ${d.error}`);
    assert.equal((await h.api('GET', `/api/apps/${name}`)).status, 404);
    await assertConsistent(`delete killed at ${step}`);
  }
});

test('Caddy stopped: a create with a domain fails clearly and is undone; health says why; works again after', async () => {
  await h.sbx.run(['systemctl', 'stop', 'caddy']);
  try {
    const health = await h.api('GET', '/api/system/health');
    assert.equal(health.status, 503);
    assert.ok(health.body.checks.some((c: any) => c.name === 'caddy' && !c.ok && /inactive|failed/.test(c.message)));
    const r = await h.api('POST', '/api/apps', { name: 'nocaddy', domains: ['nocaddy.test'] });
    const d = await h.waitDeployment(r.body.deployment_id);
    assert.equal(d.status, 'failed');
    assert.match(d.error, /step install failed: .*caddy/i);
    assert.equal((await h.api('GET', '/api/apps/nocaddy')).status, 404);
    assert.notEqual((await h.sbx.exec(['id', 'pb-nocaddy'])).code, 0, 'the half-made user is gone');
  } finally {
    await h.sbx.run(['systemctl', 'start', 'caddy']);
  }
  await assertConsistent('after caddy was stopped');
  assert.equal((await h.viaCaddy('keeper.test')).status, 200);
});

test("Caddy's main config broken by hand: the new site is refused, the others keep serving", async () => {
  const original = await h.sbx.readFile('/etc/caddy/Caddyfile');
  await h.sbx.writeFile('/etc/caddy/Caddyfile', `${original}\nthis is { not valid\n`);
  try {
    const r = await h.api('POST', '/api/apps', { name: 'broken', domains: ['broken.test'] });
    const d = await h.waitDeployment(r.body.deployment_id);
    assert.equal(d.status, 'failed');
    assert.match(d.error, /caddy rejected/i);
    assert.equal(await h.sbx.exists('/etc/caddy/pocketd/broken.caddy'), false);
    assert.equal((await h.viaCaddy('keeper.test')).status, 200);
    const checks = (await h.api('GET', '/api/validate/system')).body.checks;
    assert.ok(checks.some((c: any) => c.name === 'privileged_helper' && !c.ok));
  } finally {
    await h.sbx.writeFile('/etc/caddy/Caddyfile', original);
  }
  await assertConsistent('after the Caddyfile was broken');
});

test('an app that crash-loops: its upgrade rolls back at once; a create of it is undone', async () => {
  const t0 = Date.now();
  const r = await h.api('POST', '/api/apps/keeper/upgrade', {
    version: STANDIN.crash,
    trial: false,
    allow_downgrade: true,
  });
  const d = await h.waitDeployment(r.body.deployment_id);
  assert.equal(d.status, 'rolled_back');
  assert.match(d.error, /APP_CRASHED|exits at start/);
  assert.ok(Date.now() - t0 < 30_000);
  const c = await h.api('POST', '/api/apps', { name: 'crashy', pocketbase_version: STANDIN.crash });
  assert.equal((await h.waitDeployment(c.body.deployment_id)).status, 'failed');
  await assertConsistent('after crash loops');
  assert.ok((await notes('keeper')).includes('kept-through-upgrades'));
});

test('the release source down or serving garbage: clear errors, nothing changed', async () => {
  h.mirror.setDown(true);
  try {
    // The release list may still be cached: then the create starts and fails at its download, undone.
    const r = await h.api('POST', '/api/apps', { name: 'offline', pocketbase_version: STANDIN.prerelease });
    if (r.status === 202) {
      const d = await h.waitDeployment(r.body.deployment_id);
      assert.equal(d.status, 'failed');
      assert.match(d.error, /step fetch_release failed: .*(unreachable|unavailable|RELEASE_SOURCE|ECONNREFUSED|503)/i);
    } else {
      assert.equal(r.status, 422);
      assert.equal(r.body.error.fields[0].code, 'RELEASE_SOURCE_UNAVAILABLE');
    }
    assert.equal((await h.api('GET', '/api/apps/offline')).status, 404);
    const u = await h.api('POST', '/api/apps/keeper/upgrade', { version: STANDIN.prerelease });
    if (u.status === 202) assert.equal((await h.waitDeployment(u.body.deployment_id)).status, 'rolled_back');
    else assert.equal(u.body.error.code, 'RELEASE_SOURCE_UNAVAILABLE');
  } finally {
    h.mirror.setDown(false);
  }
  const g = await h.api('POST', '/api/apps/keeper/upgrade', { version: '0.29.96', allow_downgrade: true });
  const d = await h.waitDeployment(g.body.deployment_id);
  assert.equal(d.status, 'rolled_back');
  assert.match(d.error, /fetch_release failed/);
  assert.equal(await h.sbx.exists('/var/lib/pocketd-releases/0.29.96'), false);
  await assertConsistent('after the release source failed');
});

test('a journal with very long lines: logs are cut to a bounded size, nothing fails', async () => {
  const port = await appPort('keeper');
  // Twenty lines of 100 000 characters, printed by the app's hooks.
  assert.equal((await fetch(`http://127.0.0.1:${port}/_test/print?msg=spam&n=20&len=100000`)).status, 200);
  let entries: any[] = [];
  for (let i = 0; i < 50 && entries.length < 20; i++) {
    const r = await h.api('GET', '/api/apps/keeper/logs?lines=20&q=spam');
    assert.equal(r.status, 200);
    entries = r.body.entries;
    await sleep(100);
  }
  assert.equal(entries.length, 20);
  assert.ok(
    entries.every((e) => e.message.length <= 16_385),
    String(Math.max(...entries.map((e) => e.message.length))),
  );
});

test("drift: a unit and a site edited by hand are reported, and repair puts pocketd's version back", async () => {
  await h.sbx.run([
    'sh',
    '-c',
    'echo "# edited by hand" >> /etc/systemd/system/pb-keeper.service && sed -i "s/lb_try_duration 5s/lb_try_duration 1s/" /etc/caddy/pocketd/keeper.caddy',
  ]);
  const app = (await h.api('GET', '/api/apps/keeper')).body;
  assert.deepEqual(
    [app.config_match.match, app.config_match.unit.match, app.config_match.site.match],
    [false, false, false],
  );
  const check = (await h.api('GET', '/api/validate/system')).body.checks.find((c: any) => c.name === 'drift');
  assert.equal(check.ok, false);
  assert.match(check.message, /keeper \(unit, site\)/);
  const r = await h.api('POST', '/api/apps/keeper/repair');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.status, 'success');
  assert.equal(r.body.app.config_match.match, true);
  assert.equal((await h.api('GET', '/api/validate/system')).body.checks.find((c: any) => c.name === 'drift').ok, true);
  assert.ok(!(await h.sbx.readFile('/etc/systemd/system/pb-keeper.service')).includes('edited by hand'));
  await assertConsistent('after repair');
});

test('a full disk on the data directory: clear 507s, nothing half-written, all well once space is back', async () => {
  await h.sbx.run(['systemctl', 'stop', 'pocketd']);
  await h.sbx.run([
    'sh',
    '-c',
    'mkdir -p /mnt/small && mount -t tmpfs -o size=48m tmpfs /mnt/small && cp -a /var/lib/pocketd/. /mnt/small/ && mount --bind /mnt/small /var/lib/pocketd',
  ]);
  await h.sbx.run(['systemctl', 'start', 'pocketd']);
  await h.untilAnswers(100);
  try {
    await h.sbx.run(['sh', '-c', 'dd if=/dev/zero of=/var/lib/pocketd/filler bs=1M count=100 2>/dev/null; true']);
    const form = new FormData();
    form.set(
      'file',
      new Blob([new Uint8Array(buildZip([{ name: 'pb_public/big.bin', data: Buffer.alloc(1024 * 1024, 1) }]))]),
      'b.zip',
    );
    const up = await fetch(`${h.url}/api/apps/keeper/bundles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.token}` },
      body: form,
    });
    const body = (await up.json()) as any;
    assert.equal(up.status, 507, JSON.stringify(body));
    assert.equal(body.error.code, 'DISK_FULL');
    const bundlesBefore = (await h.api('GET', '/api/apps/keeper/bundles')).body.bundles.length;
    const left = (await h.sbx.run(['sh', '-c', 'ls -A /var/lib/pocketd/bundles/keeper | grep upload || true'])).trim();
    assert.equal(left, '');
    const tok = await h.api('POST', '/api/tokens', { name: 'while-full', scope: 'admin' });
    assert.ok([201, 507].includes(tok.status), JSON.stringify(tok.body));
    assert.equal((await h.api('GET', '/api/apps/keeper')).status, 200);
    await h.sbx.run(['rm', '-f', '/var/lib/pocketd/filler']);
    const again = await fetch(`${h.url}/api/apps/keeper/bundles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.token}` },
      body: form,
    });
    assert.equal(again.status, 201);
    assert.equal((await h.api('GET', '/api/apps/keeper/bundles')).body.bundles.length, bundlesBefore + 1);
    const integrity = (await h.sbx.run(['sqlite3', '/var/lib/pocketd/pocketd.db', 'PRAGMA integrity_check'])).trim();
    assert.equal(integrity, 'ok');
    await assertConsistent('after the disk was full');
  } finally {
    await h.sbx.run(['rm', '-f', '/var/lib/pocketd/filler']);
  }
});
