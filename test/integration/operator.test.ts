import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { TEST_HOOKS } from '../support/pb-app.js';
import { PB_PREV } from '../support/pocketbase.js';
import { tempDir } from '../support/tmp.js';
import { until } from '../support/until.js';

/**
 * The operator's day (issue #31) on a real host: an app SIGKILLed past systemd's start limit comes back by
 * itself and its incident names the signal; a deploy token cannot change the PocketBase version; README's
 * CI script fails with the reason and where the app ended; the CLI drives the same API from the host.
 */
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
let h: PocketdHost;
let deployToken = '';
before(async () => {
  h = await setupPocketdHost({
    settings: {
      health_interval_seconds: '3600',
      heal_backoff_seconds: '2',
      heal_backoff_max_seconds: '4',
      heal_stable_seconds: '6',
      crash_notice_minutes: '0',
    },
  });
  const r = await h.api('POST', '/api/apps', { name: 'shop', domains: ['shop.test'] });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
  const t = await h.api('POST', '/api/tokens', { name: 'ci-shop', scope: 'app:shop:deploy' });
  assert.equal(t.status, 201, JSON.stringify(t.body));
  deployToken = t.body.token;
});
after(async () => {
  await h?.stop();
});

const unit = async () => {
  const out = await h.sbx.run(['systemctl', 'show', '-p', 'ActiveState,MainPID,Result', 'pb-shop.service']);
  const p = Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split('=') as [string, string]),
  );
  return { active: p.ActiveState!, pid: Number(p.MainPID), result: p.Result! };
};

test('SIGKILLed past the start limit, the app comes back by itself; the loop is an incident naming the signal', async () => {
  let u = await unit();
  assert.equal(u.active, 'active');
  let kills = 0;
  // StartLimitBurst=10 in 120 s: the 11th start is refused and systemd gives up (failed, start-limit-hit).
  while (u.active !== 'failed' && kills < 20) {
    await h.sbx.run(['kill', '-9', String(u.pid)]);
    kills++;
    const before = u.pid;
    u = await until(
      unit,
      (x) => x.active === 'failed' || (x.active === 'active' && x.pid > 0 && x.pid !== before),
      30_000,
    );
  }
  assert.equal(u.active, 'failed', `systemd gave up after ${kills} kills`);
  // systemd 252 keeps the last exit's result (signal) when its start limit stops the restarts.
  assert.ok(['start-limit-hit', 'signal'].includes(u.result), u.result);
  // Nobody presses Start: the healer does, after its back-off.
  const back = await until(unit, (x) => x.active === 'active' && x.pid > 0, 60_000, 250);
  assert.equal(back.active, 'active');
  const incidents = (await h.api('GET', '/api/alerts/incidents?limit=100')).body.incidents as any[];
  const loop = incidents.find((i) => i.kind === 'crash_loop' && i.app === 'shop');
  assert.ok(loop, JSON.stringify(incidents.map((i) => [i.kind, i.title])));
  assert.match(loop.title, /crash loop: killed by signal SIGKILL/);
  assert.match(loop.detail, /systemd restarted it \d+ times and gave up/);
  assert.match(loop.detail, /pocketd starts it again in 2 s/);
  // Each crash was a notice of its own kind (sent only where a rule names app_crashed) and a health line.
  assert.ok(incidents.some((i) => i.kind === 'app_crashed' && /SIGKILL/.test(i.detail)));
  const history = (await h.api('GET', '/api/apps/shop/health?limit=100')).body.history as any[];
  assert.ok(history.filter((x) => /^crashed: killed by signal SIGKILL/.test(x.error ?? '')).length >= kills - 1);
  const heal = await until(
    async () =>
      ((await h.api('GET', '/api/deployments?app=shop')).body.deployments as any[]).find(
        (d) => d.actor === 'pocketd:heal',
      ),
    (d) => d !== undefined && !['queued', 'pending', 'running'].includes(d.status),
    30_000,
    250,
  );
  assert.equal(heal.kind, 'start');
  assert.equal(heal.status, 'success', JSON.stringify(heal));
  // Up long enough (heal_stable_seconds): the incident closes by itself.
  await until(
    async () => (await h.api('GET', `/api/alerts/incidents?open=true`)).body.incidents as any[],
    (open) => !open.some((i) => i.kind === 'crash_loop'),
    30_000,
    500,
  );
  assert.equal((await h.api('GET', '/api/apps/shop/health')).body.state, 'healthy');
});

test('from the deploy token seat: it deploys and reads, and cannot change the version, env, settings or backups', async () => {
  const as = (method: string, p: string, body?: unknown) => h.api(method, p, body, deployToken);
  for (const [method, p, body] of [
    ['POST', '/api/apps/shop/upgrade', { version: PB_PREV, allow_downgrade: true }],
    ['PATCH', '/api/apps/shop', { memory_max: '1G' }],
    ['PUT', '/api/apps/shop/env', { env: { A: 'b' } }],
    ['POST', '/api/apps/shop/backups', undefined],
    ['POST', '/api/apps/shop/stop', undefined],
  ] as const) {
    const r = await as(method, p, body);
    assert.equal(r.status, 403, `${method} ${p}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error.message, /needs app:shop:manage/);
  }
  for (const p of ['/api/apps/shop', '/api/deployments?app=shop', '/api/apps/shop/logs?lines=5']) {
    assert.equal((await as('GET', p)).status, 200, p);
  }
  // Down the version only when asked for in so many words, even with the admin token.
  const down = await h.api('POST', '/api/apps/shop/upgrade', { version: PB_PREV });
  assert.equal(down.status, 422, JSON.stringify(down.body));
  assert.deepEqual(
    down.body.error.fields.map((f: any) => [f.field, f.code]),
    [['version', 'DOWNGRADE']],
  );
  // Tokens of an app that does not exist, and a second token of a name, are refused with the field named.
  const none = await h.api('POST', '/api/tokens', { name: 'x', scope: 'app:nosuch:deploy' });
  assert.equal(none.status, 422);
  assert.equal(none.body.error.fields[0].field, 'scope');
  const dup = await h.api('POST', '/api/tokens', { name: 'ci-shop', scope: 'app:shop:read' });
  assert.equal(dup.status, 422);
  assert.deepEqual([dup.body.error.fields[0].field, dup.body.error.fields[0].code], ['name', 'NAME_TAKEN']);
  const cli = await h.sbx.exec([
    '/usr/local/bin/pocketd',
    'tokens',
    'create',
    '--name',
    'y',
    '--scope',
    'app:nosuch:read',
  ]);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /no app named nosuch/);
});

/** README's CI script, as written there, run with bash in `dir` against the sandbox. */
function ciScript(dir: string, env: Record<string, string>) {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('```bash\n', readme.indexOf('<!-- ci-script -->')) + '```bash\n'.length;
  const script = readme.slice(start, readme.indexOf('```', start));
  const r = spawnSync('bash', ['-c', script], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', POCKETD_URL: h.url, POCKETD_TOKEN: deployToken, APP: 'shop', ...env },
    encoding: 'utf8',
    timeout: 180_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("README's CI script: deploys; a bundle that breaks the start fails the job with the new process's first error and where the app ended; a 4xx shows pocketd's error", async () => {
  const { dir, cleanup } = tempDir();
  try {
    mkdirSync(path.join(dir, 'pb_public'));
    mkdirSync(path.join(dir, 'pb_hooks'));
    writeFileSync(path.join(dir, 'pb_public', 'index.html'), '<p>ci</p>');
    writeFileSync(path.join(dir, 'pb_hooks', 'main.pb.js'), TEST_HOOKS);
    const good = ciScript(dir, { CI_COMMIT_SHA: 'abc123' });
    assert.equal(good.code, 0, good.stderr + good.stdout);
    assert.match(good.stdout, /shop now runs PocketBase \S+ with bundle \d+: healthy/);

    writeFileSync(
      path.join(dir, 'pb_hooks', 'main.pb.js'),
      `console.error("Error: the bundle's hook refuses to start"); $os.exit(3);\n`,
    );
    const bad = ciScript(dir, {});
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stderr, /deploy rolled_back: .*exited with status 3/);
    assert.match(
      bad.stderr,
      /first error of the new process \(pid \d+\): (\S+ \S+ )?Error: the bundle's hook refuses to start/,
    );
    assert.ok(!bad.stderr.includes(' | '), bad.stderr);
    assert.match(
      bad.stderr,
      /where the app is now: shop was rolled back and runs PocketBase \S+ with bundle \d+: healthy/,
    );
    assert.match(bad.stderr, /undo of install_bundle: undone/);

    const refused = ciScript(dir, { APP: 'other' });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /pocketd answered 403 to POST \/api\/apps\/other\/bundles: \{"error":\{"code":"FORBIDDEN"/,
    );
  } finally {
    cleanup();
  }
});

test('the CLI from the host with POCKETD_URL and POCKETD_TOKEN: status, apps, logs; --json reads', async () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [path.join(root, 'bin', 'pocketd.js'), ...args], {
      env: { PATH: process.env.PATH ?? '', POCKETD_URL: h.url, POCKETD_TOKEN: h.token },
      encoding: 'utf8',
      timeout: 120_000,
    });
  const status = cli(['status']);
  assert.equal(status.status, 0, status.stderr);
  assert.match(status.stdout, /shop/);
  const list = cli(['apps', 'list', '--json']);
  assert.equal(list.status, 0, list.stderr);
  assert.equal((JSON.parse(list.stdout) as any).apps[0].name, 'shop');
  const logs = cli(['logs', 'shop', '--lines', '5']);
  assert.equal(logs.status, 0, logs.stderr);
  // On the host itself, without POCKETD_URL: the local daemon, with a token made for this one command.
  const local = await h.sbx.exec(['/usr/local/bin/pocketd', 'apps', 'list', '--json']);
  assert.equal(local.code, 0, local.stderr);
  assert.equal((JSON.parse(local.stdout) as any).apps[0].name, 'shop');
  assert.deepEqual(
    JSON.parse((await h.sbx.exec(['/usr/local/bin/pocketd', 'tokens', 'list', '--json'])).stdout).tokens.map(
      (t: any) => t.kind,
    ),
    ['api', 'api'],
    'the command left no token behind (sessions are not listed; api tokens: tests and ci-shop)',
  );
  const { dir, cleanup } = tempDir();
  try {
    mkdirSync(path.join(dir, 'pb_public'));
    writeFileSync(path.join(dir, 'pb_public', 'index.html'), '<p>cli</p>');
    spawnSync('zip', ['-qr', 'b.zip', 'pb_public'], { cwd: dir });
    const d = cli(['deploy', 'shop', path.join(dir, 'b.zip')]);
    assert.equal(d.status, 0, d.stderr + d.stdout);
    assert.match(d.stdout, /wait_health\s+success/);
    assert.match(d.stdout, /shop now runs/);
  } finally {
    cleanup();
  }
});
