import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { runningVersion } from '../support/pb-app.js';
import { PB_LATEST, PB_OLD } from '../support/pocketbase.js';
import { STANDIN } from '../support/release-mirror.js';

let h: PocketdHost;
before(async () => {
  h = await setupPocketdHost();
});
after(async () => {
  await h?.stop();
});

/** What the host holds for an app, read inside the sandbox. */
async function hostState(name: string) {
  const unit = await h.sbx.exists(`/etc/systemd/system/pb-${name}.service`);
  const site = await h.sbx.exists(`/etc/caddy/pocketd/${name}.caddy`);
  const dir = await h.sbx.exists(`/var/lib/pocketd-apps/${name}`);
  const env = await h.sbx.exists(`/etc/pocketd/env/${name}.env`);
  const active = (await h.sbx.exec(['systemctl', 'is-active', `pb-${name}.service`])).stdout.trim();
  return { unit, site, dir, env, active };
}

async function createApp(body: Record<string, unknown>) {
  const r = await h.api('POST', '/api/apps', body);
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return h.waitDeployment(r.body.deployment_id);
}

test('create: a deployment with recorded steps, then reachable through Caddy by its domain', async () => {
  const d = await createApp({
    name: 'blog',
    domains: ['blog.test'],
    env: { APP_MODE: 'prod "quoted" $HOME', API_SECRET: 's3cret' },
    memory_max: '256M',
    cpu_quota: 50,
    superuser: { email: 'root@blog.test', password: 'a-long-password' },
  });
  assert.equal(d.status, 'success', JSON.stringify(d.steps));
  assert.deepEqual(
    d.steps.map((s: any) => s.name),
    [
      'validate',
      'fetch_release',
      // directories, env, unit, site and start: one helper call (create-app)
      'install',
      'wait_health',
      'create_superuser',
      'finish',
    ],
  );
  assert.ok(d.steps.every((s: any) => s.status === 'success'));
  const r = await h.viaCaddy('blog.test');
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.body).message, 'API is healthy.');
  // PocketBase's own admin UI is served through the site too.
  const admin = await h.viaCaddy('blog.test', '/_/');
  assert.equal(admin.status, 200);
  assert.match(admin.body, /<title>PocketBase<\/title>/);

  const app = (await h.api('GET', '/api/apps/blog')).body;
  assert.equal(app.state, 'running');
  // Without a version asked for, the newest stable release; the running executable says so itself.
  assert.equal(app.version, PB_LATEST);
  assert.equal(await runningVersion(h, 'blog'), PB_LATEST);
  assert.ok(app.runtime.main_pid > 0);
  assert.equal(app.config_match.match, true);
  assert.equal(app.site_present, true);
  assert.equal(app.env.API_SECRET, '********');
  assert.equal(app.env.APP_MODE, 'prod "quoted" $HOME');

  const unit = await h.sbx.readFile('/etc/systemd/system/pb-blog.service');
  assert.match(unit, /^User=pb-blog$/m);
  assert.match(unit, /^MemoryMax=256M$/m);
  assert.match(unit, /^CPUQuota=50%$/m);
  assert.match(unit, /--http=127\.0\.0\.1:21\d{3} /);
  // The environment file reaches the process exactly as given.
  const pid = app.runtime.main_pid;
  const environ = (await h.sbx.run(['cat', `/proc/${pid}/environ`])).split('\0');
  assert.ok(environ.includes('APP_MODE=prod "quoted" $HOME'), environ.join(' | '));
  const envMode = (await h.sbx.run(['stat', '-c', '%a %U %G', '/etc/pocketd/env/blog.env'])).trim();
  assert.equal(envMode, '640 root pb-blog');
  // The superuser landed in the app's own database.
  const su = await h.sbx.run([
    'runuser',
    '-u',
    'pb-blog',
    '--',
    'node',
    '-e',
    `const D=require('${h.sbx.srcDir}/node_modules/better-sqlite3');console.log(new D('/var/lib/pocketd-apps/blog/pb_data/data.db',{readonly:true}).prepare('select email from _superusers').all().map(r=>r.email).join())`,
  ]);
  assert.equal(su.trim(), 'root@blog.test');
});

test('list: live state for every app, with filters and paging', async () => {
  const r = await h.api('GET', '/api/apps');
  assert.equal(r.status, 200);
  assert.equal(r.body.total, 1);
  assert.equal(r.body.apps[0].state, 'running');
  assert.equal((await h.api('GET', '/api/apps?status=stopped')).body.total, 0);
  assert.equal((await h.api('GET', '/api/apps?domain=blog.test')).body.total, 1);
  assert.equal((await h.api('GET', '/api/apps?domain=other.test')).body.total, 0);
  assert.equal((await h.api('GET', '/api/apps?status=bogus')).status, 422);
});

test('stop makes Caddy answer an error; start brings it back; restart changes the main pid', async () => {
  const stopped = await h.api('POST', '/api/apps/blog/stop');
  assert.equal(stopped.status, 200);
  assert.equal(stopped.body.state, 'stopped');
  const down = await h.viaCaddy('blog.test');
  assert.equal(down.status, 502);
  // A stopped app stays loaded (its unit is enabled and wanted), so the list still knows it.
  assert.equal((await h.api('GET', '/api/apps')).body.apps.find((a: any) => a.name === 'blog').state, 'stopped');
  assert.equal((await h.sbx.run(['systemctl', 'is-enabled', 'pb-blog.service'])).trim(), 'enabled');
  const started = await h.api('POST', '/api/apps/blog/start');
  assert.equal(started.body.state, 'running');
  assert.equal((await h.viaCaddy('blog.test')).status, 200);
  const restarted = await h.api('POST', '/api/apps/blog/restart');
  assert.equal(restarted.status, 200);
  assert.notEqual(restarted.body.runtime.main_pid, started.body.runtime.main_pid);
  assert.equal((await h.viaCaddy('blog.test')).status, 200);
});

test('PATCH a domain: reachable on the new one only; env change restarts', async () => {
  const r = await h.api('PATCH', '/api/apps/blog', { domains: ['news.test'] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.status, 'success');
  assert.deepEqual(r.body.app.domains, ['news.test']);
  assert.equal(r.body.app.config_match.match, true);
  assert.equal((await h.viaCaddy('news.test')).status, 200);
  // Caddy answers a host it has no site for with an empty 200: the app is not behind it.
  const old = await h.viaCaddy('blog.test');
  assert.doesNotMatch(old.body, /API is healthy/);
  const pidBefore = r.body.app.runtime.main_pid;
  const e = await h.api('PATCH', '/api/apps/blog', { env: { APP_MODE: 'dev' } });
  assert.equal(e.body.status, 'success');
  assert.notEqual(e.body.app.runtime.main_pid, pidBefore);
  const d = await h.api('GET', `/api/deployments/${e.body.deployment_id}`);
  assert.equal(d.body.steps.find((s: any) => s.name === 'install_site').status, 'skipped');
  assert.equal(d.body.steps.find((s: any) => s.name === 'restart').status, 'success');
});

test('hostile values never reach a file: 422 with the field named', async () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ name: 'evil\nname' }, 'name'],
    [{ name: 'ok-app', domains: ['a.test\nreverse_proxy evil'] }, 'domains.0'],
    [{ name: 'ok-app', domains: ['a.test {'] }, 'domains.0'],
    [{ name: 'ok-app', domains: ['../etc'] }, 'domains.0'],
    [{ name: 'ok-app', env: { X: 'a\nExecStart=/bin/sh' } }, 'env.X'],
    [{ name: 'ok-app', env: { 'BAD KEY': 'x' } }, 'env.BAD KEY'],
    [{ name: 'ok-app', memory_max: '1G\nUser=root' }, 'memory_max'],
    [{ name: 'ok-app', pocketbase_version: '0.23.1; rm -rf /' }, 'pocketbase_version'],
    [{ name: 'ok-app', port: 22 }, 'port'],
  ];
  for (const [body, field] of cases) {
    const r = await h.api('POST', '/api/apps', body);
    assert.equal(r.status, 422, JSON.stringify(body));
    assert.ok(
      r.body.error.fields.some((f: any) => f.field === field),
      `${field} in ${JSON.stringify(r.body.error.fields)}`,
    );
  }
  const units = await h.sbx.run(['ls', '/etc/systemd/system']);
  assert.ok(!/ok-app|evil/.test(units));
  assert.equal((await h.api('GET', '/api/apps')).body.total, 1);
});

test('validate/app reports checks, errors and warnings without writing', async () => {
  const r = await h.api('POST', '/api/validate/app', {
    name: 'blog',
    domains: ['news.test'],
    pocketbase_version: PB_OLD,
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.valid, false);
  assert.equal(r.body.checks.name_available, false);
  assert.equal(r.body.checks.domains_available, false);
  assert.deepEqual(r.body.errors.map((e: any) => e.code).sort(), ['DOMAIN_TAKEN', 'NAME_TAKEN']);
  assert.ok(r.body.warnings.some((w: any) => w.code === 'NOT_LATEST'));
  const bad = await h.api('POST', '/api/validate/app', { name: 'X!' });
  assert.equal(bad.status, 200);
  assert.equal(bad.body.valid, false);
  assert.equal(bad.body.errors[0].field, 'name');
  const none = await h.api('POST', '/api/validate/app', { name: 'fresh', pocketbase_version: '9.9.9' });
  assert.equal(none.body.checks.version_exists, false);
  assert.equal(none.body.errors[0].code, 'VERSION_NOT_FOUND');
});

test('failed creates leave nothing behind: bad checksum, missing version, port taken, unhealthy, crashing', async () => {
  const refused = await h.api('POST', '/api/apps', { name: 'ghost', pocketbase_version: '9.9.9' });
  assert.equal(refused.status, 422);
  assert.equal(refused.body.error.fields[0].code, 'VERSION_NOT_FOUND');

  const blocker = net.createServer().listen(21500, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  try {
    const taken = await h.api('POST', '/api/apps', { name: 'ghost', port: 21500 });
    assert.equal(taken.status, 422);
    assert.equal(taken.body.error.fields[0].code, 'PORT_IN_USE');
  } finally {
    blocker.close();
  }

  for (const [version, step, pattern] of [
    // Stand-ins (release-mirror.ts): behaviour no real PocketBase shows on demand.
    [STANDIN.badChecksum, 'fetch_release', /checksums\.txt/],
    [STANDIN.unhealthy, 'wait_health', /answered 500/],
    [STANDIN.crash, 'wait_health', /exits at start|no healthy answer/],
  ] as const) {
    const d = await createApp({ name: 'ghost', pocketbase_version: version, domains: ['ghost.test'] });
    assert.equal(d.status, 'failed', version);
    const failed = d.steps.find((s: any) => s.status === 'failed');
    assert.equal(failed.name, step, version);
    assert.match(failed.message, pattern);
    assert.match(d.error, new RegExp(`step ${step} failed`));
    assert.deepEqual(
      await hostState('ghost'),
      { unit: false, site: false, dir: false, env: false, active: 'inactive' },
      version,
    );
    assert.equal((await h.api('GET', '/api/apps/ghost')).status, 404);
  }
  assert.equal(await h.sbx.exists(`/var/lib/pocketd-releases/${STANDIN.badChecksum}`), false);
  // The other app kept serving all along.
  assert.equal((await h.viaCaddy('news.test')).status, 200);
});

test('two apps at once on different versions; one download per version', async () => {
  const [a, b] = await Promise.all([
    h.api('POST', '/api/apps', { name: 'alpha', pocketbase_version: PB_OLD, domains: ['alpha.test'] }),
    h.api('POST', '/api/apps', { name: 'beta', pocketbase_version: PB_OLD, domains: ['beta.test'] }),
  ]);
  assert.equal(a.status, 202);
  assert.equal(b.status, 202);
  assert.notEqual(a.body.port, b.body.port);
  const [da, db] = await Promise.all([h.waitDeployment(a.body.deployment_id), h.waitDeployment(b.body.deployment_id)]);
  assert.equal(da.status, 'success');
  assert.equal(db.status, 'success');
  assert.equal(h.mirror.downloads(PB_OLD), 1);
  assert.equal(await runningVersion(h, 'alpha'), PB_OLD);
  assert.equal(await runningVersion(h, 'blog'), PB_LATEST);
  // Both answer through Caddy; 0.22 says it can back up, 0.23+ says nothing more to a guest.
  const alpha = JSON.parse((await h.viaCaddy('alpha.test')).body);
  assert.deepEqual(alpha.data, { canBackup: true });
  const news = JSON.parse((await h.viaCaddy('news.test')).body);
  assert.deepEqual(news.data, {});
});

test('a daemon restart keeps every app as it was', async () => {
  const before = (await h.api('GET', '/api/apps')).body.apps.map((a: any) => [a.name, a.state, a.runtime.main_pid]);
  await h.sbx.run(['systemctl', 'restart', 'pocketd.service']);
  let after: any;
  for (let i = 0; i < 100; i++) {
    after = await h.api('GET', '/api/apps').catch(() => null);
    if (after?.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(
    after.body.apps.map((a: any) => [a.name, a.state, a.runtime.main_pid]),
    before,
  );
});

test('delete: unit, site and process gone, data archived; with purge, gone', async () => {
  const pid = (await h.api('GET', '/api/apps/alpha')).body.runtime.main_pid;
  const r = await h.api('DELETE', '/api/apps/alpha');
  assert.equal(r.status, 200);
  assert.equal(r.body.status, 'success');
  const s = await hostState('alpha');
  assert.deepEqual(
    { unit: s.unit, site: s.site, dir: s.dir, env: s.env },
    { unit: false, site: false, dir: false, env: false },
  );
  assert.equal((await h.sbx.exec(['kill', '-0', String(pid)])).code, 1);
  const archive = await h.sbx.run(['ls', '/var/lib/pocketd-apps/.archive']);
  assert.match(archive, /^alpha-\d{8}T\d{6}Z$/m);
  assert.doesNotMatch((await h.viaCaddy('alpha.test')).body, /API is healthy/);
  assert.equal((await h.api('GET', '/api/apps/alpha')).status, 404);

  const p = await h.api('DELETE', '/api/apps/beta?purge=true');
  assert.equal(p.body.status, 'success');
  assert.deepEqual(await hostState('beta'), { unit: false, site: false, dir: false, env: false, active: 'inactive' });
  assert.doesNotMatch(await h.sbx.run(['ls', '/var/lib/pocketd-apps/.archive']), /beta/);
  assert.equal((await h.api('DELETE', '/api/apps/beta')).status, 404);
});

test('system checks pass on a good host and name what fails', async () => {
  const ok = await h.api('GET', '/api/system/health');
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.ok(ok.body.checks.every((c: any) => c.ok));
  await h.sbx.run(['systemctl', 'stop', 'caddy.service']);
  try {
    const bad = await h.api('GET', '/api/system/health');
    assert.equal(bad.status, 503);
    assert.equal(bad.body.checks.find((c: any) => c.name === 'caddy').ok, false);
  } finally {
    await h.sbx.run(['systemctl', 'start', 'caddy.service']);
  }
  const info = await h.api('GET', '/api/system/info');
  assert.deepEqual(info.body.port_range, { from: 21000, to: 21999 });
  const rel = await h.api('GET', '/api/releases');
  assert.equal(rel.body.releases.find((r: any) => r.latest).version, PB_LATEST);
  assert.equal(rel.body.releases.find((r: any) => r.version === PB_OLD).installed, true);
});
