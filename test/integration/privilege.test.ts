import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { buildZip } from '../support/zip.js';
import { appCode } from '../support/app-code.js';
import { httpRequest } from '../support/http.js';
import { PB_LATEST, PB_OLD } from '../support/pocketbase.js';
import { capabilitiesOf } from '../../src/shared/pocketbase/versions.js';

/**
 * The privilege boundary, tried from each attacker's seat against a real host
 * (systemd, Caddy, sudo in the sandbox): the daemon's user, an app's own code,
 * a local user and an app-scoped token. Each finding of issue #13 is a test here.
 */

const HELPER = '/usr/local/lib/pocketd/pocketd-helper';
const STAGING = '/var/lib/pocketd/staging';
const APPS = '/var/lib/pocketd-apps';
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

let h: PocketdHost;
let seedPort = 0;
let otherPort = 0;
before(async () => {
  h = await setupPocketdHost();
  for (const [name, extra] of [
    ['seed', { env: { DATABASE_URL: 'postgres://u:db-pass-123@db/x', API_SECRET: 'sekrit-value' } }],
    ['other', {}],
  ] as const) {
    const r = await h.api('POST', '/api/apps', { name, domains: [`${name}.test`], ...extra });
    assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
  }
  seedPort = (await h.api('GET', '/api/apps/seed')).body.port;
  otherPort = (await h.api('GET', '/api/apps/other')).body.port;
});
after(async () => {
  await h?.stop();
});

const asUser = (user: string, argv: string[], input?: string) => h.sbx.exec(argv, { user, input });
const asDaemon = (argv: string[], input?: string) => asUser('pocketd', argv, input);
const helper = (args: string[], spec?: unknown) =>
  asDaemon(
    ['sudo', '-n', HELPER, ...args],
    spec === undefined ? undefined : typeof spec === 'string' ? spec : JSON.stringify(spec),
  );
const unitSpec = { port: 21900, version: PB_LATEST, memory_max: null, cpu_quota: null };

/** Every pocketd unit on the host runs as the apps' user, never as root. */
async function assertNoRootUnit() {
  const units = (await h.sbx.run(['sh', '-c', 'ls /etc/systemd/system/pb-*.service 2>/dev/null || true']))
    .trim()
    .split('\n')
    .filter(Boolean);
  for (const u of units) {
    const text = await h.sbx.readFile(u);
    assert.match(text, new RegExp(`^User=${path.basename(u, '.service')}$`, 'm'), u);
    assert.doesNotMatch(text, /^User=root|^ExecStart(Pre|Post)?=\/bin\/(ba)?sh|\[Service\][\s\S]*\[Service\]/m, u);
  }
  assert.equal(await h.sbx.exists('/root/p'), false, 'a command ran as root');
}

// --- the daemon's user -------------------------------------------------------

test("daemon seat: sudo allows the helper and nothing else; the helper and all it loads are root's", async () => {
  const list = await asDaemon(['sudo', '-n', '-l']);
  assert.equal(list.code, 0);
  const allowed = list.stdout
    .split('\n')
    .filter((l) => /NOPASSWD|\(root\)/.test(l))
    .map((l) => l.trim());
  assert.deepEqual(allowed, [`(root) NOPASSWD: ${HELPER}`]);
  assert.doesNotMatch(list.stdout, /SETENV/);
  for (const argv of [
    ['systemctl', 'status'],
    ['sh', '-c', 'id'],
    ['caddy', 'version'],
    ['node', '-e', '1'],
    ['-E', HELPER, 'validate-caddy'],
  ]) {
    assert.notEqual((await asDaemon(['sudo', '-n', ...argv])).code, 0, argv.join(' '));
  }
  await h.sbx.run(['visudo', '-cq']);
  // Nothing the helper runs or reads is writable by the daemon's user.
  for (const f of [
    HELPER,
    '/usr/local/lib/pocketd/pocketd-helper.cjs',
    '/usr/local/lib/pocketd/pocketd-helper.blob',
    '/usr/local/lib/pocketd/pocketd-helper.node',
    '/usr/local/lib/pocketd/templates/unit.service.hbs',
    '/etc/pocketd/helper.json',
    `/var/lib/pocketd-releases/${PB_LATEST}/pocketbase`,
  ]) {
    assert.equal((await h.sbx.run(['stat', '-c', '%U', f])).trim(), 'root', f);
    assert.notEqual((await asDaemon(['test', '-w', f])).code, 0, `${f} is writable by pocketd`);
  }
  // The wrapper runs root's node on root's snapshot of the helper, or on root's bundle, and nothing else.
  const wrapper = (await h.sbx.readFile(HELPER)).split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  assert.equal(wrapper.length, 4, wrapper.join('\n'));
  const stamp = '\\/usr\\/local\\/lib\\/pocketd\\/pocketd-helper\\.node';
  assert.match(
    wrapper[0]!,
    new RegExp(
      `^if \\[ -f ${stamp} \\] && \\[ ! \\/\\S*node -nt ${stamp} \\] && \\[ ! \\/\\S*node -ot ${stamp} \\]; then$`,
    ),
  );
  assert.match(
    wrapper[1]!,
    /^ {2}exec \/\S*node --snapshot-blob \/usr\/local\/lib\/pocketd\/pocketd-helper\.blob "\$@"$/,
  );
  assert.equal(wrapper[2], 'fi');
  assert.match(wrapper[3]!, /^exec \/\S*node \/usr\/local\/lib\/pocketd\/pocketd-helper\.cjs "\$@"$/);
  // The part the helper runs as an app's user is refused as root, so sudo cannot reach it.
  const asApp = await helper(['as-app', 'prepare', '/etc']);
  assert.equal(asApp.code, 64, asApp.stderr);
});

const SOCKET = '/run/pocketd-helper.sock';
/** Sends each line to the resident helper's socket as `user`, one connection each; answers one line per request. */
async function askSocket(user: string, lines: string[]): Promise<string[]> {
  const script = `const net = require('node:net');
    const ask = (line) => new Promise((r) => { const s = net.connect(${JSON.stringify(SOCKET)}); let b = '';
      s.on('connect', () => s.end(line)); s.on('data', (d) => (b += d)); s.on('end', () => r(b.trim() || 'closed')); s.on('error', (e) => r(e.code)); });
    (async () => { for (const l of JSON.parse(process.argv[1])) console.log(await ask(l)); })();`;
  const r = await asUser(user, ['node', '-e', script, JSON.stringify(lines)]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n');
}
const mainPid = async (unit: string) =>
  Number((await h.sbx.run(['systemctl', 'show', '-p', 'MainPID', '--value', unit])).trim());

test("daemon seat, app seat and local user: the resident helper's socket answers the daemon's user alone, an app's start, stop and restart only, checked as through sudo, from a process with no capability that writes no file", async () => {
  // An app's own code and a local user cannot even connect.
  for (const user of ['pb-seed', 'nobody']) {
    assert.deepEqual(await askSocket(user, ['{"verb":"start","name":"other"}\n']), ['EACCES'], user);
  }
  assert.equal((await h.sbx.run(['stat', '-c', '%U %G %a %F', SOCKET])).trim(), 'root pocketd 660 socket');
  // The daemon's group is the daemon's user alone (its primary group; no member added).
  assert.match((await h.sbx.run(['getent', 'group', 'pocketd'])).trim(), /^pocketd:x:\d+:$/);
  // The daemon's user: refusals name the field and carry the exit code sudo's path gives for the same thing.
  const bad: Array<[string, number, RegExp]> = [
    ['{"verb":"install-unit","name":"seed"}\n', 64, /verb/],
    ['{"verb":"start","name":"../etc"}\n', 65, /name: invalid app name/],
    ['{"verb":"start","name":"seed","unit":"x"}\n', 65, /unit|unrecognized/i],
    ['{"verb":"start"}\n', 65, /name/],
    ['not json\n', 66, /not JSON/],
    [`{"verb":"start","name":"${'a'.repeat(4000)}"}\n`, 66, /too large/],
    ['{"verb":"restart","name":"nosuchapp"}\n', 69, /systemctl restart failed/],
  ];
  const answers = (
    await askSocket(
      'pocketd',
      bad.map(([l]) => l),
    )
  ).map((a) => JSON.parse(a) as { code: number; stderr: string });
  bad.forEach(([line, code, said], i) => {
    assert.equal(answers[i]!.code, code, `${line.slice(0, 60)}: ${answers[i]!.stderr}`);
    assert.match(answers[i]!.stderr, said, line.slice(0, 60));
  });
  assert.equal((await helper(['restart', 'nosuchapp'])).code, 69);
  // A valid request does what the same verb does through sudo.
  const before = await mainPid('pb-seed.service');
  assert.deepEqual(await askSocket('pocketd', ['{"verb":"restart","name":"seed"}\n']), [
    '{"code":0,"stdout":"","stderr":""}',
  ]);
  assert.notEqual(await mainPid('pb-seed.service'), before);
  // `serve` is systemd's to start, with the socket it passes: through sudo it refuses.
  assert.equal((await helper(['serve'])).code, 64);
  // The resident helper: root with no capability, nothing writable, no new privilege.
  const pid = await mainPid('pocketd-helper.service');
  assert.ok(pid > 0, 'pocketd-helper.service runs after a request');
  assert.match(await h.sbx.readFile(`/proc/${pid}/status`), /^CapEff:\s+0+$/m);
  assert.match(await h.sbx.readFile(`/proc/${pid}/status`), /^NoNewPrivs:\s+1$/m);
  const props = await h.sbx.run(['systemctl', 'show', '-p', 'ProtectSystem,User', 'pocketd-helper.service']);
  assert.match(props, /^ProtectSystem=strict$/m);

  // The daemon's own calls go there: an app's restart from the API is one line of the helper's journal.
  const r = await h.api('POST', '/api/apps/other/restart');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(
    await h.sbx.run(['journalctl', '-u', 'pocketd-helper.service', '-o', 'cat', '--no-pager']),
    /^restart other: done/m,
  );
  // With the socket gone (an admin stopped it), the same call goes through sudo and still works.
  await h.sbx.run(['systemctl', 'stop', 'pocketd-helper.socket', 'pocketd-helper.service']);
  try {
    const otherPid = await mainPid('pb-other.service');
    const again = await h.api('POST', '/api/apps/other/restart');
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.notEqual(await mainPid('pb-other.service'), otherPid);
  } finally {
    await h.sbx.run(['systemctl', 'start', 'pocketd-helper.socket']);
  }
});

test('daemon seat: a unit spec cannot make root run anything (User=root, ExecStart, newlines, other apps)', async () => {
  // Finding 1: a staged unit with User=root was installed as it was. Staged files are now never read.
  await asDaemon([
    'sh',
    '-c',
    `printf '[Service]\\nUser=root\\nExecStart=/bin/sh -c "id > /root/p"\\n' > ${STAGING}/pb-evil.service`,
  ]);
  assert.equal((await helper(['prepare-app', 'evil'])).code, 0);
  const ignored = await helper(['install-unit', 'evil'], unitSpec);
  assert.equal(ignored.code, 0, ignored.stderr);
  await helper(['start', 'evil']);
  const hostile: unknown[] = [
    { ...unitSpec, User: 'root' },
    { ...unitSpec, ExecStart: '/bin/sh' },
    { ...unitSpec, version: `${PB_LATEST}\nUser=root` },
    { ...unitSpec, memory_max: '1G\nExecStartPre=/bin/sh -c id' },
    { ...unitSpec, cpu_quota: '50\n[Service]' },
    { ...unitSpec, port: 22 },
    { ...unitSpec, port: seedPort },
    { ...unitSpec, version: '9.9.9' },
    { ...unitSpec, version: '../../../bin' },
    '[Service]\nUser=root\n',
    '',
  ];
  for (const spec of hostile) {
    const r = await helper(['install-unit', 'evil2'], spec);
    assert.ok(r.code === 65 || r.code === 66, `${JSON.stringify(spec)}: ${r.code} ${r.stderr}`);
  }
  assert.equal(await h.sbx.exists('/etc/systemd/system/pb-evil2.service'), false);
  // The env file: a newline in a value or a key would start a line of its own.
  const envBefore = await h.sbx.readFile('/etc/pocketd/env/seed.env');
  for (const spec of [
    { env: { A: 'x\nLD_PRELOAD=/tmp/x.so' } },
    { env: { 'A\nB': 'x' } },
    { env: { A: 'x\u2028y' } },
    { env: { A: 1 } },
    { env: {}, path: '/etc/shadow' },
  ]) {
    const r = await helper(['install-env', 'seed'], spec);
    assert.equal(r.code, 65, `${JSON.stringify(spec)}: ${r.stderr}`);
    assert.match(r.stderr, /env|path|spec/);
  }
  assert.equal(await h.sbx.readFile('/etc/pocketd/env/seed.env'), envBefore);
  for (const name of ['../etc', 'a/b', 'x\ny', 'UPPER', 'ab', '-rf', 'a'.repeat(40), '', 'seed;id']) {
    assert.equal((await helper(['start', name])).code, 65, JSON.stringify(name));
  }
  assert.equal((await helper(['start', 'seed', 'extra'])).code, 64);
  assert.equal((await helper(['rm-rf', 'seed'])).code, 64);
  assert.equal((await helper([])).code, 64);
  const evil = await h.sbx.readFile('/etc/systemd/system/pb-evil.service');
  assert.doesNotMatch(evil, /\/bin\/sh|User=root/);
  await helper(['remove-unit', 'evil']);
  await helper(['purge-app', 'evil']);
  await assertNoRootUnit();
});

test('daemon seat: a site spec cannot import files, inject directives or send a domain to another app', async () => {
  const good = { port: seedPort, domains: ['seed.test'], http_only: true, body_max: '64MB' };
  const hostile: unknown[] = [
    { ...good, domains: ['seed.test {\n\timport /etc/shadow\n}'] },
    { ...good, domains: ['a.test\nimport /etc/shadow'] },
    { ...good, domains: ['a.test}'] },
    { ...good, body_max: '1MB\n}\nimport /etc/shadow' },
    { ...good, port: otherPort },
    { ...good, domains: ['other.test'] },
    { ...good, upstream: '10.0.0.1:80' },
    'seed.test {\n\timport /etc/shadow\n}\n',
  ];
  for (const spec of hostile) {
    const r = await helper(['install-site', 'seed'], spec);
    assert.ok(r.code === 65 || r.code === 66, `${JSON.stringify(spec)}: ${r.code} ${r.stderr}`);
    assert.doesNotMatch(r.stderr + r.stdout, /root:/);
  }
  const site = await h.sbx.readFile('/etc/caddy/pocketd/seed.caddy');
  assert.doesNotMatch(site, /import|other/);
  assert.match(site, new RegExp(`reverse_proxy 127\\.0\\.0\\.1:${seedPort} `));
  // Caddy validates as its own user: even a file in the sites directory that imports
  // /etc/shadow (which only root could have put there) cannot show root's secrets.
  await h.sbx.writeFile('/etc/caddy/pocketd/zz-probe.caddy', 'http://probe.test {\n\timport /etc/shadow\n}\n');
  const probe = await helper(['validate-caddy']);
  await h.sbx.run(['rm', '-f', '/etc/caddy/pocketd/zz-probe.caddy']);
  assert.equal(probe.code, 70);
  assert.doesNotMatch(probe.stderr, /root:/);
  assert.match(probe.stderr, /permission denied/i);
  assert.equal((await h.viaCaddy('seed.test')).status, 200);
});

test('daemon seat: staged files swapped for links in a loop are never read by root', async () => {
  // Finding 3: staged() checked a path, then install opened it again. No verb reads staging now.
  const loop = asDaemon([
    'sh',
    '-c',
    `end=$(($(date +%s)+6)); while [ $(date +%s) -lt $end ]; do
    echo 'A="1"' > ${STAGING}/seed.env.x; mv -f ${STAGING}/seed.env.x ${STAGING}/seed.env; ln -sfn /etc/shadow ${STAGING}/seed.env; done`,
  ]);
  for (let i = 0; i < 15; i++) {
    const r = await helper(['install-env', 'seed'], {
      env: { DATABASE_URL: 'postgres://u:db-pass-123@db/x', API_SECRET: 'sekrit-value' },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(await h.sbx.readFile('/etc/pocketd/env/seed.env'), /root:/);
  }
  await loop;
  await asDaemon(['rm', '-f', `${STAGING}/seed.env`, `${STAGING}/seed.env.x`, `${STAGING}/pb-evil.service`]);
});

test('daemon seat: the helper installs only releases that match the checksums it fetched itself', async () => {
  const forged = buildZip([{ name: 'pocketbase', data: '#!/bin/sh\nid > /root/p\n', mode: 0o100755 }]).toString(
    'base64',
  );
  await asDaemon(['sh', '-c', `base64 -d > ${STAGING}/forged.zip`], forged);
  const r = await asDaemon(['sh', '-c', `sudo -n ${HELPER} install-release ${PB_OLD} < ${STAGING}/forged.zip`]);
  assert.equal(r.code, 75, r.stderr);
  assert.match(r.stderr, /does not match/);
  assert.equal(await h.sbx.exists(`/var/lib/pocketd-releases/${PB_OLD}`), false);
  assert.equal((await h.sbx.run(['sh', '-c', 'ls -A /var/lib/pocketd-releases'])).trim(), PB_LATEST);
  await asDaemon(['rm', '-f', `${STAGING}/forged.zip`]);
  // The daemon's own upgrade still installs a real one through the same verb.
  const list = (await h.api('GET', '/api/releases')).body;
  assert.ok(JSON.stringify(list).includes(PB_OLD));
});

test('daemon seat: every verb still works for a valid request', async () => {
  const name = 'verbs';
  const ok = async (args: string[], spec?: unknown) => {
    const r = await helper(args, spec);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await ok(['prepare-app', name]);
  assert.equal(
    (
      await h.sbx.run(['stat', '-c', '%U %a', `/var/lib/pocketd-apps/${name}`, `/var/lib/pocketd-apps/${name}/pb_data`])
    ).trim(),
    `pb-${name} 750\npb-${name} 750`,
  );
  await ok(['install-env', name], { env: { A: '1' } });
  await ok(['install-unit', name], unitSpec);
  await ok(['enable', name]);
  await ok(['start', name]);
  await ok(['restart', name]);
  await ok(['install-site', name], { port: 21900, domains: [`${name}.test`], http_only: true, body_max: '1MB' });
  await ok(['validate-caddy']);
  await ok(['reload-caddy']);
  const routes = JSON.parse(await ok(['caddy-routes']));
  assert.deepEqual(routes[`${name}.test`], ['127.0.0.1:21900']);
  assert.deepEqual(routes['seed.test'], [`127.0.0.1:${seedPort}`]);
  const size = Number((await ok(['backup', name, '7'])).trim());
  assert.ok(size > 0);
  await ok(['stop', name]);
  assert.equal((await helper(['restore-backup', name, '7'])).code, 0);
  await ok(['delete-backup', name, '7']);
  await ok(['disable', name]);
  await ok(['remove-site', name]);
  await ok(['remove-env', name]);
  await ok(['remove-unit', name]);
  const archived = (await ok(['archive-app', name])).trim();
  assert.match(archived, new RegExp(`^/var/lib/pocketd-apps/\\.archive/${name}-`));
  await ok(['prepare-app', name]);
  await ok(['purge-app', name]);
  assert.equal(await h.sbx.exists(`/var/lib/pocketd-apps/${name}`), false);
});

test('daemon seat: create-app makes only a new app, and a failed one removes what it made and nothing else', async () => {
  const site = (name: string, port: number) => ({ port, domains: [`${name}.test`], http_only: true, body_max: '1MB' });
  const spec = (name: string, port: number) => ({
    env: { A: '1' },
    unit: { ...unitSpec, port },
    site: site(name, port),
  });
  const seedDir = '/var/lib/pocketd-apps/seed';
  const before = await h.sbx.run(['sh', '-c', `ls -a ${seedDir} ${seedDir}/pb_data; stat -c %i ${seedDir}`]);
  // An app that is there: refused before anything is touched, whatever else the spec says (its own port, or
  // a port that would make a later part fail and undo).
  for (const port of [seedPort, 21901]) {
    const r = await helper(['create-app', 'seed'], spec('seed', port));
    assert.equal(r.code, 65, r.stderr);
    assert.match(r.stderr, /name: app seed has a unit installed already/);
  }
  // A directory with no unit record (left by hand, or an app of another tool): refused, not adopted or purged.
  await h.sbx.run(['mkdir', '-p', '/var/lib/pocketd-apps/stray/pb_data']);
  const stray = await helper(['create-app', 'stray'], spec('stray', 21902));
  assert.equal(stray.code, 65, stray.stderr);
  assert.match(stray.stderr, /stray exists already/);
  assert.equal(await h.sbx.exists('/var/lib/pocketd-apps/stray/pb_data'), true);
  await h.sbx.run(['rm', '-r', '/var/lib/pocketd-apps/stray']);
  // Backups of that name with no app (an older app's): refused, neither taken over nor removed by an undo.
  await h.sbx.run(['mkdir', '-p', '/var/lib/pocketd-apps/.backups/stray']);
  const backups = await helper(['create-app', 'stray'], spec('stray', 21902));
  assert.equal(backups.code, 65, backups.stderr);
  assert.match(backups.stderr, /\.backups\/stray exists already/);
  assert.equal(await h.sbx.exists('/var/lib/pocketd-apps/stray'), false);
  await h.sbx.run(['rmdir', '/var/lib/pocketd-apps/.backups/stray']);
  assert.equal(await h.sbx.run(['sh', '-c', `ls -a ${seedDir} ${seedDir}/pb_data; stat -c %i ${seedDir}`]), before);
  assert.equal((await h.api('GET', '/api/apps/seed')).body.state, 'running');
  assert.equal((await h.viaCaddy('seed.test', '/api/health')).status, 200);

  // A part that fails (the site sends a domain another app serves): the user, directory, env and unit it made are gone.
  const taken = await helper(['create-app', 'half'], {
    ...spec('half', 21903),
    site: { ...site('half', 21903), domains: ['other.test'] },
  });
  assert.equal(taken.code, 65, taken.stderr);
  assert.match(taken.stderr, /other\.test/);
  for (const p of [
    '/var/lib/pocketd-apps/half',
    '/etc/systemd/system/pb-half.service',
    '/etc/pocketd/env/half.env',
    '/etc/caddy/pocketd/half.caddy',
  ])
    assert.equal(await h.sbx.exists(p), false, p);
  assert.notEqual((await h.sbx.exec(['id', 'pb-half'])).code, 0, 'the half-made user is gone');
  assert.deepEqual((await h.viaCaddy('other.test', '/api/health')).status, 200);

  // A valid request: the app runs behind its site, in one call.
  const made = await helper(['create-app', 'whole'], spec('whole', 21904));
  assert.equal(made.code, 0, made.stderr);
  assert.deepEqual(JSON.parse(made.stdout)['whole.test'], ['127.0.0.1:21904']);
  assert.equal((await h.sbx.run(['systemctl', 'is-active', 'pb-whole.service'])).trim(), 'active');
  assert.equal((await h.sbx.run(['systemctl', 'is-enabled', 'pb-whole.service'])).trim(), 'enabled');
  assert.equal(
    (await h.sbx.run(['stat', '-c', '%U %a', '/var/lib/pocketd-apps/whole/pb_data'])).trim(),
    'pb-whole 750',
  );
  for (const verb of ['remove-unit', 'remove-site', 'remove-env', 'purge-app'])
    assert.equal((await helper([verb, 'whole'])).code, 0, verb);
});

// --- an app's own code --------------------------------------------------------

/**
 * A PocketBase hook (arbitrary code as the app's user, in its sandbox) that plants links where root used to
 * write and keeps re-planting them every 2 ms (a process it starts with $os.exec), then, once, a moment after
 * the app's first start (after the health gate passed), SIGKILLs the app so that the next change finds it
 * waiting to restart (auto-restart), the state in which the stop used to be skipped.
 */
const PLANTER = `
import fcntl, os, shutil, sys, time
app = os.path.realpath(sys.argv[1])
lock = open(os.path.join(app, "pb_data", ".planter.lock"), "w")
try:
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
except OSError:
    sys.exit(0)
links = [(".pb_hooks.new", "/etc/pwn-hooks"), (".pb_public.new", "/etc/systemd/system"), (".prev", "/etc"),
         (".bundle.new", "/etc/systemd/system"), (".bundle.zip", "/etc/pwn.zip"), (".pb_data.restoring", "/etc/cron.d"),
         (".pb_data.old", "/etc/ssl"), (".backup.tmp", "/etc/pwn-backup")]
marker = os.path.join(app, "pb_data", "crashed-once")
crash_at = None if os.path.exists(marker) else time.time() + 1.5
while True:
    for link, target in links:
        p = os.path.join(app, link)
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            elif os.path.lexists(p):
                os.unlink(p)
            os.symlink(target, p)
        except OSError:
            pass
    if crash_at and time.time() > crash_at:
        open(marker, "w").close()
        crash_at = None
        os.kill(os.getppid(), 9)
    time.sleep(0.002)
`;
const HOSTILE_HOOK = `$os.exec('/usr/bin/python3', '-I', '-c', ${JSON.stringify(PLANTER)}, __hooks + '/..').start();`;

test('app seat: a hostile hook that plants links and crashes itself never makes root write through them', async () => {
  // Finding 2: install-bundle, restore-backup and .prev followed links the app planted.
  await h.sbx.run(['touch', '/run/attack-start']);
  const etcBefore = await h.sbx.run([
    'stat',
    '-c',
    '%U %G %a',
    '/etc',
    '/etc/systemd/system',
    '/etc/cron.d',
    '/etc/ssl',
  ]);
  const form = new FormData();
  const zip = buildZip([
    { name: 'pb_hooks/evil.pb.js', data: HOSTILE_HOOK },
    { name: 'pb_public/index.html', data: 'v1' },
  ]);
  form.set('file', new Blob([new Uint8Array(zip)]), 'b.zip');
  const up = await fetch(`${h.url}/api/apps/other/bundles`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}` },
    body: form,
  });
  assert.equal(up.status, 201);
  const deploy = async (bundle: number) => {
    const r = await h.api('POST', '/api/apps/other/deploy', { bundle });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return h.waitDeployment(r.body.deployment_id);
  };
  const zip2 = buildZip([
    { name: 'pb_hooks/evil.pb.js', data: HOSTILE_HOOK },
    { name: 'pb_public/index.html', data: 'v2' },
  ]);
  const form2 = new FormData();
  form2.set('file', new Blob([new Uint8Array(zip2)]), 'b.zip');
  assert.equal(
    (
      await fetch(`${h.url}/api/apps/other/bundles`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.token}` },
        body: form2,
      })
    ).status,
    201,
  );
  const d1 = await deploy(1);
  assert.equal(d1.status, 'success', JSON.stringify(d1.steps));
  // The hook ran: it planted its links, then crashed; the next change starts while systemd waits to restart it.
  // The planter is a process the hook starts: it may not have run yet, and it unlinks before each re-plant, so
  // one readlink can fall between the two. Look again until the link is seen (or give up after 10 s).
  let planted = '';
  for (let i = 0; i < 200 && planted !== '/etc'; i++) {
    planted = await h.sbx.run(['readlink', '/var/lib/pocketd-apps/other/.prev']).then(
      (out) => out.trim(),
      () => '',
    );
    if (planted !== '/etc') await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(planted, '/etc');
  for (
    let i = 0;
    i < 200 &&
    (await h.sbx.run(['systemctl', 'show', '-p', 'SubState', '--value', 'pb-other.service'])).trim() !== 'auto-restart';
    i++
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(
    (await h.sbx.run(['systemctl', 'show', '-p', 'SubState', '--value', 'pb-other.service'])).trim(),
    'auto-restart',
  );
  // A second deploy, a backup, a restore and a rollback, all with the links in place and re-planted every 2 ms.
  const d2 = await deploy(2);
  assert.equal(d2.status, 'success', JSON.stringify(d2.steps));
  assert.equal(d2.steps.find((x: any) => x.name === 'stop').status, 'success');
  // The hook re-plants its links every 2 ms on the app's only thread (jitless): answers can lag a moment.
  let served = '';
  for (let i = 0; i < 50 && served !== 'v2'; i++) {
    served = (await h.viaCaddy('other.test', '/')).body;
    if (served !== 'v2') await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(
    served,
    'v2',
    await h.sbx.run([
      'sh',
      '-c',
      'ls -la /var/lib/pocketd-apps/other /var/lib/pocketd-apps/other/pb_public; journalctl -u pb-other -o cat --no-pager | tail -25; systemctl show -p MainPID,NRestarts pb-other',
    ]),
  );
  const b = await h.api('POST', '/api/apps/other/backups');
  assert.equal(b.status, 201, JSON.stringify(b.body));
  const restore = await h.api('POST', `/api/apps/other/backups/${b.body.id}/restore`);
  assert.equal(restore.status, 202, JSON.stringify(restore.body));
  const restored = await h.waitDeployment(restore.body.deployment_id);
  assert.equal(restored.status, 'success', JSON.stringify(restored.steps));
  const rb = await h.api('POST', '/api/apps/other/rollback', { deployment_id: d1.id, data: false });
  assert.equal(rb.status, 202, JSON.stringify(rb.body));
  const rolled = await h.waitDeployment(rb.body.deployment_id);
  assert.equal(rolled.status, 'success', JSON.stringify(rolled.steps));
  assert.equal((await h.viaCaddy('other.test', '/')).body, 'v1');

  // Nothing outside the app's own directory changed: no file under /etc is newer than the attack, owners are as they were.
  const changed = (
    await h.sbx.run([
      'sh',
      '-c',
      // The sandbox is an overlay of this machine's /: what the machine itself writes meanwhile under root's
      // home (npm, Go caches) shows through, so /root is searched one level deep (where /root/p would be).
      '{ find /etc /usr /var/lib/pocketd-releases -xdev -newer /run/attack-start -not -type d; find /root -maxdepth 1 -newer /run/attack-start -not -type d; } 2>/dev/null || true',
    ])
  ).trim();
  assert.equal(changed, '', changed);
  assert.equal(
    await h.sbx.run(['stat', '-c', '%U %G %a', '/etc', '/etc/systemd/system', '/etc/cron.d', '/etc/ssl']),
    etcBefore,
  );
  for (const f of ['/etc/pwn-hooks', '/etc/pwn.zip', '/etc/pwn-backup']) assert.equal(await h.sbx.exists(f), false, f);
  // Files inside the app's directory are the app's (read with the hook at rest: it re-plants its links every 2 ms).
  await h.sbx.run(['systemctl', 'stop', 'pb-other.service']);
  assert.equal(
    (await h.sbx.run(['sh', '-c', 'find /var/lib/pocketd-apps/other -xdev ! -user pb-other | head -5'])).trim(),
    '',
    await h.sbx.run(['sh', '-c', 'ls -lan /var/lib/pocketd-apps/other; id pb-other']),
  );
  await h.sbx.run(['systemctl', 'start', 'pb-other.service']);
  await assertNoRootUnit();
});

test("app seat and local user: Caddy's admin endpoint is out of reach; a change behind pocketd's back is drift and repair undoes it", async () => {
  // Finding 4: the admin API listened on loopback TCP with no auth.
  const probe = `const net = require('node:net');
    const tcp = new Promise((r) => { const s = net.connect(2019, '127.0.0.1'); s.on('connect', () => { s.destroy(); r('tcp-open'); }); s.on('error', (e) => r(e.code)); });
    const unix = new Promise((r) => { const s = net.connect('/run/caddy/admin.sock'); s.on('connect', () => { s.destroy(); r('unix-open'); }); s.on('error', (e) => r(e.code)); });
    Promise.all([tcp, unix]).then((x) => console.log(x.join(' ')));`;
  for (const user of ['pb-seed', 'nobody', 'pocketd']) {
    const r = await asUser(user, ['node', '-e', probe]);
    assert.equal(r.stdout.trim(), 'ECONNREFUSED EACCES', user);
  }
  assert.match(await h.sbx.readFile('/etc/caddy/Caddyfile'), /^\s*admin unix\/\/run\/caddy\/admin\.sock$/m);

  // Root (standing in for anyone who reached the admin) points seed.test at the other app.
  const hijack = `const http = require('node:http');
    const get = (p) => new Promise((res) => http.request({ socketPath: '/run/caddy/admin.sock', path: p, setHost: false, headers: { host: '' } }, (r) => { let b = ''; r.on('data', (d) => b += d); r.on('end', () => res(b)); }).end());
    (async () => {
      const cfg = JSON.parse(await get('/config/'));
      const text = JSON.stringify(cfg).split('127.0.0.1:${seedPort}').join('127.0.0.1:${otherPort}');
      const req = http.request({ socketPath: '/run/caddy/admin.sock', path: '/load', method: 'POST', setHost: false, headers: { host: '', 'content-type': 'application/json' } }, (r) => { r.resume(); r.on('end', () => console.log(r.statusCode)); });
      req.end(text);
    })();`;
  assert.equal((await h.sbx.run(['node', '-e', hijack])).trim(), '200');
  // The host's drift check reads Caddy's live config now; an app's detail shows what was last read.
  const system = (await h.api('GET', '/api/validate/system')).body;
  assert.match(JSON.stringify(system.checks.find((c: any) => c.name === 'drift')), /seed \(caddy routes\)/);
  const drift = (await h.api('GET', '/api/apps/seed')).body;
  assert.equal(drift.config_match.unit.match, true);
  assert.equal(drift.config_match.site.match, true);
  assert.equal(drift.config_match.routes.match, false);
  assert.deepEqual(drift.config_match.routes.live, [`seed.test -> 127.0.0.1:${otherPort}`]);
  assert.equal(drift.config_match.match, false);
  const repaired = await h.api('POST', '/api/apps/seed/repair');
  assert.equal(repaired.status, 200, JSON.stringify(repaired.body));
  assert.equal(repaired.body.app.config_match.match, true, JSON.stringify(repaired.body.app.config_match));
  assert.equal(JSON.parse((await h.viaCaddy('seed.test', '/api/health')).body).message, 'API is healthy.');
});

// --- a local user, and an app-scoped token ------------------------------------------

test('local user: the store is private, from creation', async () => {
  // Finding 5: pocketd.db-wal and -shm were 0644 in a 0755 directory.
  assert.equal((await h.sbx.run(['stat', '-c', '%a %U', '/var/lib/pocketd'])).trim(), '700 pocketd');
  const open = (await h.sbx.run(['sh', '-c', 'find /var/lib/pocketd -perm /077 | head -5'])).trim();
  assert.equal(open, '', open);
  for (const f of ['pocketd.db', 'pocketd.db-wal']) {
    const r = await asUser('nobody', ['cat', `/var/lib/pocketd/${f}`]);
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stdout, /sekrit/);
  }
  assert.match(
    await h.sbx.readFile(
      '/proc/' +
        (await h.sbx.run(['systemctl', 'show', '-p', 'MainPID', '--value', 'pocketd.service'])).trim() +
        '/status',
    ),
    /^Umask:\s+0077$/m,
  );
});

/** What a watcher saw: every argv (from /proc) or every unit property (over D-Bus) that held `needle`, and the CLI runs. */
const WATCH_PROC = `
const fs = require('node:fs'); const hits = new Set(); const cli = new Set(); const end = Date.now() + 40000;
// Given as hex: the watcher's own argv must not hold what it looks for.
const needle = Buffer.from(process.argv[1], 'hex').toString();
const tick = () => {
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\\d+$/.test(p)) continue;
    try {
      const c = fs.readFileSync('/proc/' + p + '/cmdline', 'utf8').split('\\0').join(' ');
      if (c.includes(needle)) hits.add(c);
      if (/ (superuser|admin) (upsert|create|update) /.test(c)) cli.add(c);
    } catch {}
  }
  if (Date.now() < end && !fs.existsSync('/run/stop-watch')) setImmediate(tick); else console.log(JSON.stringify({ hits: [...hits], cli: [...cli] }));
};
tick();`;
/**
 * From inside another app's sandbox: every property of every pocketd unit, over D-Bus, again and again, kept
 * in the app's own directory for the test to search (the needle is never in the watcher's own argv).
 */
const WATCH_DBUS = (out: string) => `end=$(( $(date +%s) + 40 )); n=0; : > ${out}.all
while [ $(date +%s) -lt $end ] && [ ! -e /run/stop-watch ]; do
  for u in $(systemctl list-units --all --plain --no-legend --no-pager 'pocketd-work-*' 'pb-*' | cut -d' ' -f1); do
    systemctl show "$u" >> ${out}.all 2>/dev/null; n=$((n+1))
  done
done; sort -u ${out}.all > ${out}; rm -f ${out}.all; echo "shown $n"`;

for (const version of [PB_LATEST, PB_OLD]) {
  test(`local user and another app: a superuser's password (${version}) is nowhere in argv, unit properties or the journal, and only the owner signs in`, async () => {
    // Finding 4: a throwaway password was in the transient unit's ExecStart (any app read it over D-Bus) and in
    // /proc/*/cmdline (user nobody): the attacker signed in with it first and set its own password.
    const name = version === PB_OLD ? 'admins-old' : 'admins';
    const password = `very-secret-superuser-pw-${version}`;
    await h.sbx.run(['rm', '-f', '/run/stop-watch']);
    const proc = asUser('nobody', ['node', '-e', WATCH_PROC, Buffer.from(password).toString('hex')]);
    const seen = `${APPS}/seed/pb_data/dbus-seen.txt`;
    const dbus = appCode(h.sbx, 'seed', WATCH_DBUS(seen), { timeoutMs: 60_000 });
    const r = await h.api('POST', '/api/apps', {
      name,
      pocketbase_version: version,
      domains: [`${name}.test`],
      superuser: { email: 'root@admins.test', password },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const d = await h.waitDeployment(r.body.deployment_id);
    assert.equal(d.status, 'success', JSON.stringify(d.steps));
    // A reset, too: it signs every session of the old password out.
    const caps = capabilitiesOf(version);
    const signIn = async (pw: string) => {
      const res = await httpRequest(h.sbx.caddy.httpPort, caps.authPath, {
        host: `${name}.test`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identity: 'root@admins.test', password: pw }),
      });
      return { status: res.status, token: res.status === 200 ? (JSON.parse(res.body).token as string) : '' };
    };
    const first = await signIn(password);
    assert.equal(first.status, 200, 'the owner cannot sign in through Caddy');
    const reset = await h.api('PUT', `/api/apps/${name}/superuser`, {
      email: 'root@admins.test',
      password: `${password}-2`,
    });
    assert.ok([200, 202].includes(reset.status), JSON.stringify(reset.body));
    if (reset.body.deployment_id) assert.equal((await h.waitDeployment(reset.body.deployment_id)).status, 'success');
    await h.sbx.run(['touch', '/run/stop-watch']);
    const watched = JSON.parse((await proc).stdout.trim() || '{}') as { hits: string[]; cli: string[] };
    const overBus = await dbus;
    assert.deepEqual(watched.hits, [], 'the password showed in a process argv');
    assert.deepEqual(watched.cli, [], 'a superuser command line ran (its password is readable in /proc)');
    const props = await h.sbx.readFile(seen);
    assert.ok(!props.includes(password), 'the password showed in a unit property over D-Bus');
    assert.ok(!/superuser upsert|admin (create|update)/.test(props), 'a superuser command line showed over D-Bus');
    assert.match(overBus.stdout, /shown [1-9]/, `the D-Bus watcher read no unit: ${overBus.stdout}${overBus.stderr}`);
    assert.equal((await signIn(password)).status, 400, 'the old password still works after a reset');
    assert.equal((await signIn(`${password}-2`)).status, 200);
    // The session of the old password is over: PocketBase checks a token against the superuser's tokenKey.
    const me = await httpRequest(
      h.sbx.caddy.httpPort,
      version === PB_OLD ? '/api/admins' : '/api/collections/_superusers/records',
      {
        host: `${name}.test`,
        headers: { authorization: first.token },
      },
    );
    assert.notEqual(me.status, 200, 'a session of the old password outlived the reset');
    const journal = await h.sbx.run(['journalctl', '--no-pager', '-o', 'cat']);
    assert.doesNotMatch(journal, new RegExp(password));
  });
}

test('read token: env values are masked, every one of them', async () => {
  // Finding 7: a read token saw DATABASE_URL's password because its key did not look secret.
  const t = await h.api('POST', '/api/tokens', { name: 'reader', scope: 'app:seed:read' });
  assert.equal(t.status, 201);
  const seen = (await h.api('GET', '/api/apps/seed', undefined, t.body.token)).body;
  assert.deepEqual(seen.env, { DATABASE_URL: '********', API_SECRET: '********' });
  const admin = (await h.api('GET', '/api/apps/seed')).body;
  assert.equal(admin.env.DATABASE_URL, 'postgres://u:db-pass-123@db/x');
  assert.equal(admin.env.API_SECRET, '********');
});

// --- issue #24: root never works in a tree an app can change ------------------

const userOf = async (user: string) => (await h.sbx.exec(['getent', 'passwd', user])).stdout.trim();
async function createApp(name: string, extra: Record<string, unknown> = {}) {
  const r = await h.api('POST', '/api/apps', { name, domains: [`${name}.test`], ...extra });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const d = await h.waitDeployment(r.body.deployment_id);
  assert.equal(d.status, 'success', JSON.stringify(d.steps));
}
async function deleteApp(name: string, purge: boolean) {
  const r = await h.api('DELETE', `/api/apps/${name}${purge ? '?purge=true' : ''}`);
  assert.ok([200, 202].includes(r.status), JSON.stringify(r.body));
  return h.waitDeployment(r.body.deployment_id);
}

test("app seat and a manage token (backups need manage since #31): an rc file the app plants is never read; a backup runs in the app's own sandbox", async () => {
  // Finding 1: sqlite3 ran as the app's user outside its sandbox and read ~/.sqliterc from the app's directory.
  const dir = `${APPS}/seed`;
  const rc = `.shell id > ${dir}/escaped; ls /var/lib/pocketd-apps /etc/pocketd > ${dir}/listing 2>&1\\n`;
  const planted = await appCode(
    h.sbx,
    'seed',
    `printf '${rc}' > ${dir}/.sqliterc && cp ${dir}/.sqliterc ${dir}/pb_data/.sqliterc`,
  );
  assert.equal(planted.code, 0, planted.stderr);
  const t = (await h.api('POST', '/api/tokens', { name: 'ci-seed', scope: 'app:seed:manage' })).body.token as string;
  const b = await h.api('POST', '/api/apps/seed/backups', undefined, t);
  assert.equal(b.status, 201, JSON.stringify(b.body));
  assert.equal(b.body.status, 'ready', JSON.stringify(b.body));
  assert.equal(await h.sbx.exists(`${dir}/escaped`), false, 'the planted .sqliterc ran');
  assert.equal(await h.sbx.exists(`${dir}/listing`), false);
  // The app's user has a home no app can write, so no tool finds a per-user file of the app's there.
  assert.match(await userOf('pb-seed'), /:\/nonexistent:\/usr\/sbin\/nologin$/);
});

test("app seat: a process of the app's user that outlived its unit is ended at delete; the user is gone for sure and its uid is never given again", async () => {
  // Finding 2: userdel failed while the user had a process, the failure was ignored, and a new app of the same
  // name got the same uid: the old process read the new app's env file and data.
  await createApp('doomed');
  const oldUid = (await h.sbx.run(['id', '-u', 'pb-doomed'])).trim();
  await h.sbx.run([
    'sh',
    '-c',
    'setpriv --reuid=pb-doomed --regid=pb-doomed --clear-groups setsid sleep 100000 </dev/null >/dev/null 2>&1 &',
  ]);
  let pid = '';
  for (let i = 0; i < 50 && !pid; i++) {
    pid = (await h.sbx.exec(['pgrep', '-u', oldUid, '-x', 'sleep'])).stdout.trim();
    if (!pid) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(pid, 'the leftover process did not start');
  const d = await deleteApp('doomed', false);
  assert.equal(d.status, 'success', JSON.stringify(d.steps));
  assert.notEqual((await h.sbx.exec(['kill', '-0', pid])).code, 0, 'the leftover process survived the delete');
  assert.equal(await userOf('pb-doomed'), '', 'the user survived the delete');
  await createApp('doomed', { env: { NEW_SECRET: 'only-for-the-new-app' } });
  const newUid = (await h.sbx.run(['id', '-u', 'pb-doomed'])).trim();
  assert.notEqual(newUid, oldUid, 'the new app of the same name got the old uid');
  assert.equal((await h.sbx.exec(['pgrep', '-u', oldUid])).stdout.trim(), '');
  assert.equal((await deleteApp('doomed', true)).status, 'success');
});

/** A process of the app, in its sandbox, that swaps a full directory and a link to `target` as fast as it can. */
const SWAPPER = (dir: string, targets: string[]) => `exec /usr/bin/python3 -I -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
pairs = []
for i, t in enumerate(${JSON.stringify(targets)}):
    a, b = "${dir}/pb_data/swap%d/a" % i, "${dir}/pb_data/swap%d/b" % i
    os.makedirs(a, exist_ok=True)
    for n in range(60):
        open("%s/f%03d" % (a, n), "w").close()
    os.symlink(t, b)
    pairs.append((a.encode(), b.encode()))
open("${dir}/pb_data/swapping", "w").close()
while True:
    for a, b in pairs:
        libc.renameat2(-100, a, -100, b, 2)
'`;

/** Names, modes and owners of a directory's files (not sizes: a live app's own database grows meanwhile). */
async function canary(dir: string): Promise<string> {
  return h.sbx.run(['sh', '-c', `cd ${dir} && ls -ln | awk '{print $1, $3, $4, $9}' | sort`]);
}

for (const purge of [true, false]) {
  test(`app seat: a process swapping directories and links during ${purge ? "a purge (daemon's user, or deploy token plus the admin's DELETE ?purge=true)" : "an admin's delete (archive)"} never makes root delete or re-own through them`, async () => {
    // Finding 3: purge-app deleted by path while the app's processes lived; a swapping process made root
    // delete 50 of 50 root-owned files under /etc and another app's pb_data.
    const name = purge ? 'swapper' : 'swapper2';
    await createApp(name);
    const c = `/etc/pocketd-canary-${name}`;
    await h.sbx.run([
      'sh',
      '-c',
      `mkdir -p ${c} && for i in $(seq 1 50); do echo $i > ${c}/f$i; done && chown nobody ${c}/*`,
    ]);
    const before = await canary(c);
    const otherData = `${APPS}/other/pb_data`;
    const otherBefore = await canary(otherData);
    const dir = `${APPS}/${name}`;
    const run = await appCode(h.sbx, name, SWAPPER(dir, [c, otherData]), { background: true });
    assert.equal(run.code, 0, run.stderr);
    for (let i = 0; i < 100 && !(await h.sbx.exists(`${dir}/pb_data/swapping`)); i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(await h.sbx.exists(`${dir}/pb_data/swapping`), 'the swapper never started');
    const d = await deleteApp(name, purge);
    assert.equal(d.status, 'success', JSON.stringify(d.steps));
    assert.equal(await canary(c), before, `root deleted or re-owned files in ${c} through a link`);
    assert.equal(await canary(otherData), otherBefore, "root touched another app's pb_data through a link");
    assert.equal((await h.sbx.run(['systemctl', 'show', '-p', 'ActiveState', '--value', run.unit])).trim(), 'inactive');
    if (!purge) {
      // The archive is root's, every file of it: nothing in it is the old uid's.
      const archived = d.steps.find((s: any) => s.name === 'archive_data').message.replace(/^archived to /, '');
      assert.equal((await h.sbx.run(['sh', '-c', `find ${archived} ! -user root | head -3`])).trim(), '');
    } else assert.equal(await h.sbx.exists(dir), false);
  });
}

test("app-scoped (manage) token: an app's tokens and history die with it; a new app of the same name inherits none of them", async () => {
  // Finding 5: scopes were by name; the old app's deploy token read, uploaded to and deployed the new app.
  await createApp('reborn');
  const t = (await h.api('POST', '/api/tokens', { name: 'ci-reborn', scope: 'app:reborn:manage' })).body
    .token as string;
  assert.equal((await h.api('GET', '/api/apps/reborn', undefined, t)).status, 200);
  assert.equal((await h.api('POST', '/api/apps/reborn/backups', undefined, t)).status, 201);
  const oldDeployments = (await h.api('GET', '/api/deployments?app=reborn')).body.deployments.map((d: any) => d.id);
  assert.equal((await deleteApp('reborn', false)).status, 'success');
  await createApp('reborn');
  for (const [method, path] of [
    ['GET', '/api/apps/reborn'],
    ['GET', '/api/deployments?app=reborn'],
    ['GET', '/api/apps/reborn/backups'],
    ['POST', '/api/apps/reborn/backups'],
    ['GET', `/api/deployments/${oldDeployments[0]}`],
  ] as const)
    assert.equal((await h.api(method, path, undefined, t)).status, 401, `${method} ${path} with the old app's token`);
  const listed = (await h.api('GET', '/api/deployments?app=reborn')).body.deployments;
  assert.deepEqual(
    listed.map((d: any) => d.kind),
    ['create'],
    "the new app inherited the old one's deployments",
  );
  assert.deepEqual((await h.api('GET', '/api/apps/reborn/backups')).body.backups, []);
  // A token for an app that does not exist is refused, naming the field.
  const none = await h.api('POST', '/api/tokens', { name: 'nosuch', scope: 'app:nosuch:deploy' });
  assert.equal(none.status, 422, JSON.stringify(none.body));
  assert.match(JSON.stringify(none.body), /scope/);
});

test("daemon seat: a unit or site can only use a port of root's range, so no site can publish pocketd's own API", async () => {
  // Finding 6: install-site pointed a site at pocketd's API port and published its sign-in through Caddy.
  const apiPort = Number(new URL(h.url).port);
  for (const port of [apiPort, 22000, 1024, 65535]) {
    const r = await helper(['install-unit', 'seed'], { ...unitSpec, port });
    assert.equal(r.code, 65, `install-unit with port ${port}: ${r.stderr}`);
    assert.match(r.stderr, /port/);
  }
  const site = { port: apiPort, domains: ['seed.test'], http_only: true, body_max: '64MB' };
  const s = await helper(['install-site', 'seed'], site);
  assert.equal(s.code, 65, s.stderr);
  const fresh = await helper(['install-site', 'nounit'], site);
  assert.equal(fresh.code, 65, fresh.stderr);
  assert.notEqual((await h.viaCaddy('seed.test', '/api/auth/me')).status, 401, 'the API answers through Caddy');
});

test('rendered units and sites pass the real tools', async () => {
  const verify = await h.sbx.exec(['systemd-analyze', 'verify', '/etc/systemd/system/pb-seed.service']);
  assert.equal(verify.code, 0, verify.stderr);
  assert.doesNotMatch(verify.stderr, /pb-seed/);
  for (const file of ['unit-limits.service', 'unit-plain.service']) {
    // The golden units name a release by version; verify checks that its executable exists on this host.
    const text = readFileSync(path.join(root, 'test', 'fixtures', 'golden', file), 'utf8').replaceAll(
      '/0.23.1/',
      `/${PB_LATEST}/`,
    );
    await h.sbx.writeFile(`/run/systemd/system/pb-golden.service`, text);
    const r = await h.sbx.exec(['systemd-analyze', 'verify', '/run/systemd/system/pb-golden.service']);
    assert.equal(r.code, 0, `${file}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /pb-golden/, file);
  }
  for (const file of ['site.caddy', 'site-http.caddy']) {
    const site = readFileSync(path.join(root, 'test', 'fixtures', 'golden', file), 'utf8');
    await h.sbx.writeFile('/run/golden.Caddyfile', `{\n\tadmin off\n}\n${site}`);
    const r = await h.sbx.exec(['caddy', 'validate', '--adapter', 'caddyfile', '--config', '/run/golden.Caddyfile'], {
      env: { HOME: '/root' },
    });
    assert.equal(r.code, 0, `${file}: ${r.stderr}`);
  }
});

test('a node replaced after install runs the helper without the snapshot it cannot load; install.sh builds a new one', async () => {
  const lib = '/usr/local/lib/pocketd';
  const blob = `${lib}/pocketd-helper.blob`;
  await h.sbx.run(['cp', '-p', blob, `${blob}.saved`]);
  try {
    // A snapshot node cannot load stands in for one built by another node: with the stamp still node's,
    // the wrapper takes it and the call fails; once node's mtime is not the stamp's, the bundle runs.
    await h.sbx.run(['sh', '-c', `head -c 4096 /dev/urandom > ${blob}`]);
    assert.notEqual((await helper(['caddy-routes'])).code, 0, 'the wrapper used the snapshot while the stamp matched');
    await h.sbx.run(['touch', '-d', '2001-01-01', `${lib}/pocketd-helper.node`]);
    const plain = await helper(['caddy-routes']);
    assert.equal(plain.code, 0, plain.stderr);
    await h.sbx.run(['/bin/bash', `${h.sbx.srcDir}/deploy/install.sh`]);
    assert.ok(Number((await h.sbx.run(['stat', '-c', '%s', blob])).trim()) > 1_000_000, 'install.sh built a snapshot');
    assert.equal(
      (await h.sbx.run(['stat', '-c', '%Y', `${lib}/pocketd-helper.node`])).trim(),
      (await h.sbx.run(['stat', '-L', '-c', '%Y', '/usr/bin/node'])).trim(),
    );
    const fromSnapshot = await helper(['caddy-routes']);
    assert.equal(fromSnapshot.code, 0, fromSnapshot.stderr);
  } finally {
    await h.sbx.run(['rm', '-f', `${blob}.saved`]);
  }
});

test('install.sh run twice changes nothing the second time', async () => {
  const files = [
    '/etc/systemd/system/pocketd.service',
    '/etc/sudoers.d/pocketd',
    HELPER,
    '/usr/local/lib/pocketd/pocketd-helper.cjs',
    '/usr/local/lib/pocketd/pocketd-helper.blob',
    '/usr/local/lib/pocketd/pocketd-helper.node',
    '/etc/pocketd/helper.json',
    '/etc/pocketd/config.json',
    '/etc/caddy/Caddyfile',
    '/usr/local/bin/pocketd',
    '/etc/systemd/system/caddy.service.d/pocketd.conf',
  ];
  const snapshot = async () => {
    const sums = await h.sbx.run(['sha256sum', ...files]);
    const stats =
      (await h.sbx.run(['stat', '-c', '%n %U %G %a %Y', ...files, '/etc/pocketd/env', '/var/lib/pocketd-releases'])) +
      // The running daemon's own directories: their owner and mode are install.sh's, their mtime the daemon's
      // (its store's files come and go as it works), so only what install.sh sets is compared.
      (await h.sbx.run([
        'stat',
        '-c',
        '%n %U %G %a',
        '/var/lib/pocketd',
        '/var/lib/pocketd/staging',
        '/var/lib/pocketd-apps',
      ]));
    const pid = await h.sbx.run(['systemctl', 'show', '-p', 'MainPID', '--value', 'pocketd.service', 'caddy.service']);
    const users = await h.sbx.run(['/bin/sh', '-c', 'getent passwd pocketd pocketbase; getent group systemd-journal']);
    return { sums, stats, pid, users };
  };
  const before = await snapshot();
  const out = await h.sbx.run(['/bin/bash', `${h.sbx.srcDir}/deploy/install.sh`]);
  assert.doesNotMatch(out, /wrote|added|now/);
  assert.deepEqual(await snapshot(), before);
  assert.equal(
    (await h.sbx.run(['grep', '-c', 'import /etc/caddy/pocketd/\\*.caddy', '/etc/caddy/Caddyfile'])).trim(),
    '1',
  );
});

test('uninstall.sh removes pocketd and keeps app data', async () => {
  const r = await h.sbx.run(['/bin/bash', `${h.sbx.srcDir}/deploy/uninstall.sh`]);
  assert.match(r, /app data kept/);
  for (const f of [
    '/etc/systemd/system/pocketd.service',
    '/etc/sudoers.d/pocketd',
    HELPER,
    '/etc/systemd/system/pb-seed.service',
    '/etc/caddy/pocketd',
  ]) {
    assert.equal(await h.sbx.exists(f), false, f);
  }
  assert.equal(await h.sbx.exists('/var/lib/pocketd-apps/seed/pb_data/data.db'), true);
  assert.notEqual((await h.sbx.exec(['systemctl', 'is-active', 'pocketd.service'])).stdout.trim(), 'active');
  assert.doesNotMatch(await h.sbx.readFile('/etc/caddy/Caddyfile'), /import \/etc\/caddy\/pocketd/);
  assert.equal((await h.sbx.exec(['systemctl', 'is-active', 'caddy.service'])).stdout.trim(), 'active');
});
