import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';

const HELPER = '/usr/local/lib/pocketd/pocketd-helper';
const STAGING = '/var/lib/pocketd/staging';
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

let h: PocketdHost;
before(async () => {
  h = await setupPocketdHost();
  // A release the helper's superuser verb can run.
  const r = await h.api('POST', '/api/apps', { name: 'seed', domains: ['seed.test'] });
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
});
after(async () => { await h?.stop(); });

const asDaemon = (argv: string[], input?: string) => h.sbx.exec(argv, { user: 'pocketd', input });
const helper = (...args: string[]) => asDaemon(['sudo', '-n', HELPER, ...args]);
const stage = (file: string, content: string) => asDaemon(['/bin/sh', '-c', `cat > ${STAGING}/${file}`], content);

test('the daemon runs as its own user, in systemd-journal, not root', async () => {
  const pid = (await h.sbx.run(['systemctl', 'show', '-p', 'MainPID', '--value', 'pocketd.service'])).trim();
  assert.equal((await h.sbx.run(['ps', '-o', 'user=', '-p', pid])).trim(), 'pocketd');
  assert.match(await h.sbx.run(['id', '-nG', 'pocketd']), /\bsystemd-journal\b/);
  const status = await h.sbx.run(['cat', `/proc/${pid}/status`]);
  assert.match(status, /^NoNewPrivs:\s+0$/m);
});

test('sudo allows the helper and nothing else', async () => {
  const list = await asDaemon(['sudo', '-n', '-l']);
  assert.equal(list.code, 0);
  const allowed = list.stdout.split('\n').filter((l) => /NOPASSWD|\(root\)/.test(l)).map((l) => l.trim());
  assert.deepEqual(allowed, [`(root) NOPASSWD: ${HELPER}`]);
  assert.doesNotMatch(list.stdout, /SETENV/);
  for (const argv of [['systemctl', 'status'], ['sh', '-c', 'id'], ['caddy', 'version'], ['journalctl', '-n', '1'], ['cat', '/etc/shadow'], ['-E', HELPER, 'validate-caddy']]) {
    const r = await asDaemon(['sudo', '-n', ...argv]);
    assert.notEqual(r.code, 0, argv.join(' '));
  }
  // sudoers passes the checker.
  await h.sbx.run(['visudo', '-cq']);
});

test('every verb works for a valid app, as the daemon user', async () => {
  const name = 'verbs';
  const unit = (await h.sbx.readFile('/etc/systemd/system/pb-seed.service')).replaceAll('seed', name).replace(/127\.0\.0\.1:\d+/, '127.0.0.1:21900');
  const ok = async (...args: string[]) => {
    const r = await helper(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await ok('prepare-app', name);
  assert.equal((await h.sbx.run(['stat', '-c', '%U %a', `/var/lib/pocketd-apps/${name}/pb_data`])).trim(), 'pocketbase 750');
  await stage(`${name}.env`, 'A="1"\n');
  await ok('install-env', name);
  await stage(`pb-${name}.service`, unit);
  await ok('install-unit', name);
  assert.equal(await h.sbx.readFile(`/etc/systemd/system/pb-${name}.service`), unit);
  await ok('enable', name);
  await ok('start', name);
  await ok('restart', name);
  await ok('stop', name);
  await ok('disable', name);
  await stage(`${name}.caddy`, `http://${name}.test {\n\treverse_proxy 127.0.0.1:21900\n}\n`);
  await ok('install-site', name);
  await ok('validate-caddy');
  await ok('reload-caddy');
  const su = await asDaemon(['sudo', '-n', HELPER, 'superuser', name, (await h.api('GET', '/api/apps/seed')).body.version], 'admin@verbs.test\nlong-enough-pw\n');
  assert.equal(su.code, 0, su.stderr);
  await ok('remove-site', name);
  await ok('remove-env', name);
  await ok('remove-unit', name);
  const archived = (await ok('archive-app', name)).trim();
  assert.match(archived, new RegExp(`^/var/lib/pocketd-apps/\\.archive/${name}-`));
  await ok('prepare-app', name);
  await ok('purge-app', name);
  assert.equal(await h.sbx.exists(`/var/lib/pocketd-apps/${name}`), false);
});

test('the helper refuses bad names, extra arguments, unknown verbs and unsafe staged files', async () => {
  for (const bad of ['../etc', 'a/b', 'x\ny', 'UPPER', 'ab', '-rf', 'a'.repeat(40), '', 'seed;id']) {
    const r = await helper('start', bad);
    assert.equal(r.code, 65, JSON.stringify(bad));
  }
  assert.equal((await helper('start', 'seed', 'extra')).code, 64);
  assert.equal((await helper('start')).code, 64);
  assert.equal((await helper('rm-rf', 'seed')).code, 64);
  assert.equal((await helper()).code, 64);
  assert.equal((await helper('superuser', 'seed', '../../bin')).code, 65);

  // A symlink in staging pointing at a root-only file is refused.
  await asDaemon(['ln', '-sf', '/etc/shadow', `${STAGING}/pb-linky.service`]);
  const link = await helper('install-unit', 'linky');
  assert.equal(link.code, 66);
  assert.match(link.stderr, /symlink/);
  // A staged file the daemon does not own is refused.
  await h.sbx.run(['/bin/sh', '-c', `echo '[Service]' > ${STAGING}/pb-foreign.service`]);
  const foreign = await helper('install-unit', 'foreign');
  assert.equal(foreign.code, 66);
  assert.match(foreign.stderr, /not owned by pocketd/);
  // A missing one too.
  assert.equal((await helper('install-site', 'nothing-here')).code, 66);
  for (const f of ['pb-linky.service', 'pb-foreign.service']) {
    assert.equal(await h.sbx.exists(`/etc/systemd/system/${f}`), false);
  }
});

test('a site Caddy rejects is never loaded, and the other sites keep serving', async () => {
  const before = await h.sbx.readFile('/etc/caddy/pocketd/seed.caddy');
  await stage('seed.caddy', 'http://seed.test {\n\tthis_is_not_a_directive\n}\n');
  const r = await helper('install-site', 'seed');
  assert.equal(r.code, 70);
  assert.equal(await h.sbx.readFile('/etc/caddy/pocketd/seed.caddy'), before);
  const app = (await h.api('GET', '/api/apps/seed')).body;
  assert.equal(app.config_match.match, true);
});

test('rendered units and sites pass the real tools', async () => {
  const verify = await h.sbx.exec(['systemd-analyze', 'verify', '/etc/systemd/system/pb-seed.service']);
  assert.equal(verify.code, 0, verify.stderr);
  assert.doesNotMatch(verify.stderr, /pb-seed/);
  for (const file of ['unit-limits.service', 'unit-plain.service']) {
    // The golden units run release 0.23.1, which the seed app installed.
    const text = readFileSync(path.join(root, 'test', 'fixtures', 'golden', file), 'utf8');
    await h.sbx.writeFile(`/run/systemd/system/pb-golden.service`, text);
    const r = await h.sbx.exec(['systemd-analyze', 'verify', '/run/systemd/system/pb-golden.service']);
    assert.equal(r.code, 0, `${file}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /pb-golden/, file);
  }
  for (const file of ['site.caddy', 'site-http.caddy']) {
    const site = readFileSync(path.join(root, 'test', 'fixtures', 'golden', file), 'utf8');
    await h.sbx.writeFile('/run/golden.Caddyfile', `{\n\tadmin off\n}\n${site}`);
    const r = await h.sbx.exec(['caddy', 'validate', '--adapter', 'caddyfile', '--config', '/run/golden.Caddyfile'], { env: { HOME: '/root' } });
    assert.equal(r.code, 0, `${file}: ${r.stderr}`);
  }
});

test('install.sh run twice changes nothing the second time', async () => {
  const files = ['/etc/systemd/system/pocketd.service', '/etc/sudoers.d/pocketd', HELPER, '/etc/pocketd/helper.conf',
    '/etc/pocketd/config.json', '/etc/caddy/Caddyfile', '/usr/local/bin/pocketd'];
  const snapshot = async () => {
    const sums = await h.sbx.run(['sha256sum', ...files]);
    const stats = await h.sbx.run(['stat', '-c', '%n %U %G %a %Y', ...files, '/var/lib/pocketd', '/var/lib/pocketd/staging', '/etc/pocketd/env', '/var/lib/pocketd-apps']);
    const pid = await h.sbx.run(['systemctl', 'show', '-p', 'MainPID', '--value', 'pocketd.service']);
    const users = await h.sbx.run(['/bin/sh', '-c', 'getent passwd pocketd pocketbase; getent group systemd-journal']);
    return { sums, stats, pid, users };
  };
  const before = await snapshot();
  const out = await h.sbx.run(['/bin/bash', `${h.sbx.srcDir}/deploy/install.sh`]);
  assert.doesNotMatch(out, /wrote|added/);
  assert.deepEqual(await snapshot(), before);
  assert.equal((await h.sbx.run(['grep', '-c', 'import /etc/caddy/pocketd/\\*.caddy', '/etc/caddy/Caddyfile'])).trim(), '1');
});

test('uninstall.sh removes pocketd and keeps app data', async () => {
  const r = await h.sbx.run(['/bin/bash', `${h.sbx.srcDir}/deploy/uninstall.sh`]);
  assert.match(r, /app data kept/);
  for (const f of ['/etc/systemd/system/pocketd.service', '/etc/sudoers.d/pocketd', HELPER, '/etc/systemd/system/pb-seed.service', '/etc/caddy/pocketd']) {
    assert.equal(await h.sbx.exists(f), false, f);
  }
  assert.equal(await h.sbx.exists('/var/lib/pocketd-apps/seed/pb_data/data.db'), true);
  assert.notEqual((await h.sbx.exec(['systemctl', 'is-active', 'pocketd.service'])).stdout.trim(), 'active');
  assert.doesNotMatch(await h.sbx.readFile('/etc/caddy/Caddyfile'), /pocketd/);
  assert.equal((await h.sbx.exec(['systemctl', 'is-active', 'caddy.service'])).stdout.trim(), 'active');
});
