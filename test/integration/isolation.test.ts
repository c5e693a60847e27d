import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { buildZip } from '../support/zip.js';

/**
 * Each app alone: its own user, a view of the host with only itself in it.
 * Probed from inside an app (a hook runs arbitrary code in its unit's sandbox,
 * as PocketBase hooks do) and from its user outside the sandbox.
 */

let h: PocketdHost;
before(async () => {
  h = await setupPocketdHost();
  for (const [name, env] of [
    ['alpha', { ALPHA_SECRET: 'alpha-only-1' }],
    ['beta', { BETA_SECRET: 'beta-only-2' }],
  ] as const) {
    const r = await h.api('POST', '/api/apps', { name, domains: [`${name}.test`], env });
    assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
  }
});
after(async () => {
  await h?.stop();
});

const app = async (name: string) => (await h.api('GET', `/api/apps/${name}`)).body;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A hook that tries to reach the other app and the host from inside alpha, and publishes what it found. */
const probeHook = (betaPid: number) => `
const fs = require('node:fs'); const net = require('node:net'); const path = require('node:path');
const out = {};
const attempt = (k, fn) => { try { const v = fn(); out[k] = v === undefined ? 'ok' : v; } catch (e) { out[k] = e.code || String(e); } };
attempt('read_beta_env', () => fs.readFileSync('/etc/pocketd/env/beta.env', 'utf8'));
attempt('list_apps', () => fs.readdirSync('/var/lib/pocketd-apps'));
attempt('read_beta_data', () => fs.readFileSync('/var/lib/pocketd-apps/beta/pb_data/data.db').length);
attempt('list_backups', () => fs.readdirSync('/var/lib/pocketd-apps/.backups'));
attempt('list_store', () => fs.readdirSync('/var/lib/pocketd'));
attempt('list_config', () => fs.readdirSync('/etc/pocketd'));
attempt('list_releases', () => fs.readdirSync('/var/lib/pocketd-releases'));
attempt('kill_beta', () => { process.kill(${betaPid}, 'SIGKILL'); });
attempt('see_beta_proc', () => fs.existsSync('/proc/${betaPid}'));
attempt('proc_uids', () => [...new Set(fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).map((p) => { try { return /Uid:\\s+(\\d+)/.exec(fs.readFileSync('/proc/' + p + '/status', 'utf8'))[1]; } catch { return 'gone'; } }))]);
attempt('own_uid', () => process.getuid());
attempt('write_outside', () => fs.writeFileSync('/var/lib/pocketd-apps/beta/pwned', 'x'));
const connect = (k, ...a) => new Promise((r) => { const s = net.connect(...a); s.on('connect', () => { s.destroy(); out[k] = 'open'; r(); }); s.on('error', (e) => { out[k] = e.code; r(); }); });
Promise.all([connect('caddy_admin_tcp', 2019, '127.0.0.1'), connect('caddy_admin_unix', '/run/caddy/admin.sock')]).then(() => {
  out.done = true;
  fs.writeFileSync(path.join(__dirname, '..', 'pb_public', 'probe.json'), JSON.stringify(out));
});
`;

test("an app's own code reaches nothing of another app, pocketd's store or Caddy's admin", async () => {
  const beta = await app('beta');
  const betaPid = beta.runtime.main_pid as number;
  const zip = buildZip([
    { name: 'pb_hooks/probe.pb.js', data: probeHook(betaPid) },
    { name: 'pb_public/index.html', data: 'alpha' },
  ]);
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(zip)]), 'b.zip');
  assert.equal(
    (
      await fetch(`${h.url}/api/apps/alpha/bundles`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.token}` },
        body: form,
      })
    ).status,
    201,
  );
  const d = await h.api('POST', '/api/apps/alpha/deploy', { bundle: 1 });
  assert.equal((await h.waitDeployment(d.body.deployment_id)).status, 'success');
  let probe: Record<string, unknown> = {};
  for (let i = 0; i < 100 && !probe.done; i++) {
    const r = await h.viaCaddy('alpha.test', '/probe.json');
    if (r.status === 200) probe = JSON.parse(r.body);
    else await sleep(50);
  }
  assert.equal(probe.done, true, JSON.stringify(probe));
  const alphaUid = Number((await h.sbx.run(['id', '-u', 'pb-alpha'])).trim());
  assert.equal(probe.own_uid, alphaUid);
  assert.ok(
    ['EACCES', 'ENOENT'].includes(probe.read_beta_env as string),
    `pocketd's config is not in the app's view: ${String(probe.read_beta_env)}`,
  );
  assert.deepEqual(probe.list_apps, ['alpha']);
  assert.equal(probe.read_beta_data, 'ENOENT');
  assert.equal(probe.list_backups, 'ENOENT');
  assert.ok(['EACCES', 'ENOENT'].includes(probe.list_store as string), String(probe.list_store));
  assert.ok(['EACCES', 'ENOENT'].includes(probe.list_config as string), String(probe.list_config));
  assert.deepEqual(probe.list_releases, [beta.version]);
  assert.ok(['ESRCH', 'EPERM'].includes(probe.kill_beta as string), String(probe.kill_beta));
  assert.equal(probe.see_beta_proc, false);
  assert.deepEqual(probe.proc_uids, [String(alphaUid)]);
  assert.ok(['ENOENT', 'EROFS', 'EACCES'].includes(probe.write_outside as string), String(probe.write_outside));
  assert.equal(probe.caddy_admin_tcp, 'ECONNREFUSED');
  assert.ok(['EACCES', 'ENOENT'].includes(probe.caddy_admin_unix as string), String(probe.caddy_admin_unix));
  // beta did not notice.
  const after = await app('beta');
  assert.equal(after.runtime.main_pid, betaPid);
  assert.equal(after.state, 'running');
  assert.equal(await h.sbx.exists('/var/lib/pocketd-apps/beta/pwned'), false);
});

test("outside the sandbox too, an app's user can neither read, list nor signal another app", async () => {
  const betaPid = String((await app('beta')).runtime.main_pid);
  const as = (argv: string[]) => h.sbx.exec(argv, { user: 'pb-alpha' });
  const env = await as(['cat', '/etc/pocketd/env/beta.env']);
  assert.notEqual(env.code, 0);
  assert.match(env.stderr, /Permission denied/);
  assert.doesNotMatch(env.stdout, /beta-only-2/);
  assert.notEqual((await as(['ls', '/etc/pocketd/env'])).code, 0, 'no app lists the env files');
  assert.match((await as(['ls', '/var/lib/pocketd-apps/beta'])).stderr, /Permission denied/);
  assert.match((await as(['cat', '/var/lib/pocketd-apps/beta/pb_data/data.db'])).stderr, /Permission denied/);
  assert.match((await as(['kill', '-9', betaPid])).stderr, /not permitted/);
  assert.equal((await app('beta')).runtime.main_pid, Number(betaPid));
  // Users, groups and modes as promised.
  assert.equal(
    (
      await h.sbx.run([
        'stat',
        '-c',
        '%U:%G %a',
        '/var/lib/pocketd-apps/alpha',
        '/etc/pocketd/env/alpha.env',
        '/etc/pocketd/env',
      ])
    ).trim(),
    'pb-alpha:pb-alpha 750\nroot:pb-alpha 640\nroot:root 711',
  );
  assert.equal(
    (
      await h.sbx.run([
        'sh',
        '-c',
        'find /var/lib/pocketd-apps/alpha -xdev \\( ! -user pb-alpha -o -perm /007 \\) | head -5',
      ])
    ).trim(),
    '',
  );
  assert.match(
    await h.sbx.run(['getent', 'passwd', 'pb-alpha']),
    /^pb-alpha:x:\d+:\d+:pocketd app alpha:\/var\/lib\/pocketd-apps\/alpha:\/usr\/sbin\/nologin$/m,
  );
});

test("systemd-analyze security scores an app's unit at most 2.0", async () => {
  const out = await h.sbx.run(['systemd-analyze', 'security', '--no-pager', 'pb-alpha.service']);
  const score = Number(/Overall exposure level for pb-alpha\.service: ([\d.]+)/.exec(out)?.[1]);
  assert.ok(
    score <= 2.0,
    `exposure ${score}:\n${out
      .split('\n')
      .filter((l) => l.includes('✗'))
      .join('\n')}`,
  );
  // What is left off is what README explains, and nothing else.
  const off = out
    .split('\n')
    .filter((l) => l.includes('✗'))
    .map((l) => l.trim().split(/\s+/)[1]);
  assert.deepEqual(
    off.sort(),
    [
      'DeviceAllow=',
      'IPAddressDeny=',
      'PrivateNetwork=',
      'RestrictAddressFamilies=~AF_(INET|INET6)',
      'RestrictAddressFamilies=~AF_UNIX',
      'RootDirectory=/RootImage=',
    ].sort(),
    out,
  );
  console.log(`systemd-analyze security pb-alpha.service: ${score}`);
});

test("a 32-character app name gets a user name within Linux's 32 characters, and everything works", async () => {
  const name = 'a-very-long-app-name-of-32-chars';
  assert.equal(name.length, 32);
  const r = await h.api('POST', '/api/apps', {
    name,
    superuser: { email: 'su@long.test', password: 'long-enough-pw' },
  });
  const d = await h.waitDeployment(r.body.deployment_id);
  assert.equal(d.status, 'success', JSON.stringify(d.steps));
  const user = (await h.sbx.run(['stat', '-c', '%U', `/var/lib/pocketd-apps/${name}`])).trim();
  assert.match(user, /^pb-a-very-long-app-name-[0-9a-f]{8}$/);
  assert.ok(user.length <= 32);
  const del = await h.api('DELETE', `/api/apps/${name}?purge=true`);
  assert.equal(del.body.status, 'success');
  assert.equal((await h.sbx.exec(['getent', 'passwd', user])).code, 2, 'the user is removed with the app');
});

test('a host whose apps all ran as one shared user is migrated to a user per app on start, data kept', async () => {
  const r = await h.api('POST', '/api/apps', { name: 'legacy', domains: ['legacy.test'], env: { OLD: 'yes' } });
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
  const port = (await app('legacy')).port;
  const note = await fetch(`http://127.0.0.1:${port}/api/collections/notes/records`, {
    method: 'POST',
    body: JSON.stringify({ text: 'before-migration' }),
  });
  assert.equal(note.status, 200);
  // Turn it into what an older pocketd left: the shared `pocketbase` user, a layout-2 unit, no user of its own.
  const unitFile = '/etc/systemd/system/pb-legacy.service';
  await h.sbx.run(['systemctl', 'stop', 'pb-legacy.service']);
  await h.sbx.run(['chown', '-R', 'pocketbase:pocketbase', '/var/lib/pocketd-apps/legacy']);
  await h.sbx.run(['chgrp', 'pocketbase', '/etc/pocketd/env/legacy.env']);
  const old = (await h.sbx.readFile(unitFile))
    .replace(/^User=pb-legacy$/m, 'User=pocketbase')
    .replace(/^Group=pb-legacy$/m, 'Group=pocketbase')
    .replace('# pocketd-layout: 3', '# pocketd-layout: 2');
  await h.sbx.writeFile(unitFile, old);
  await h.sbx.run(['systemctl', 'daemon-reload']);
  await h.sbx.run(['systemctl', 'start', 'pb-legacy.service']);
  await h.sbx.run(['userdel', 'pb-legacy']);
  // systemd forks the main process as root and it drops to its user a moment later: asked right after the start, it may not have yet.
  let user = '';
  for (let i = 0; i < 50 && (user === '' || user === 'root'); i++) {
    user = (
      await h.sbx.exec(['ps', '-o', 'user=', '-p', String((await app('legacy')).runtime?.main_pid)])
    ).stdout.trim();
    if (user === '' || user === 'root') await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(user, 'pocketbase');

  await h.killDaemon();

  const now = await app('legacy');
  assert.equal(
    now.state,
    'running',
    (
      await h.sbx.exec([
        'sh',
        '-c',
        'systemctl status --no-pager -l -n 5 pb-legacy.service; namei -l /var/lib/pocketd-apps/legacy/pb_data; id pb-legacy; ls -lan /var/lib/pocketd-apps/legacy',
      ])
    ).stdout,
  );
  assert.equal(now.config_match.match, true, JSON.stringify(now.config_match));
  assert.equal((await h.sbx.run(['ps', '-o', 'user=', '-p', String(now.runtime.main_pid)])).trim(), 'pb-legacy');
  assert.match(await h.sbx.readFile(unitFile), /^User=pb-legacy$/m);
  assert.equal(
    (await h.sbx.run(['sh', '-c', 'find /var/lib/pocketd-apps/legacy -xdev ! -user pb-legacy | head -5'])).trim(),
    '',
  );
  assert.equal((await h.sbx.run(['stat', '-c', '%G', '/etc/pocketd/env/legacy.env'])).trim(), 'pb-legacy');
  const notes = (await (await fetch(`http://127.0.0.1:${port}/api/collections/notes/records`)).json()) as {
    items: Array<{ text: string }>;
  };
  assert.deepEqual(
    notes.items.map((n) => n.text),
    ['before-migration'],
  );
  // The other apps were left as they were.
  assert.equal((await app('alpha')).state, 'running');
});
