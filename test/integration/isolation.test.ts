import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { buildZip, type RawEntry } from '../support/zip.js';
import { PB_LATEST, PB_OLD } from '../support/pocketbase.js';
import { jsonRouteHook } from '../support/pb-hooks.js';

/**
 * Each app alone: its own user, a view of the host with only itself in it.
 * Probed from inside an app by its own code, PocketBase's JS hooks run by the
 * real PocketBase (arbitrary code as the app's user, in its unit's sandbox), on
 * both hooks API families (alpha on the newest release, beta on 0.22), and from
 * an app's user outside the sandbox.
 */

const APPS = {
  alpha: { version: PB_LATEST, env: { ALPHA_SECRET: 'alpha-only-1' } },
  beta: { version: PB_OLD, env: { BETA_SECRET: 'beta-only-2' } },
} as const;
type Name = keyof typeof APPS;
const otherOf = (name: Name): Name => (name === 'alpha' ? 'beta' : 'alpha');

let h: PocketdHost;
before(async () => {
  h = await setupPocketdHost();
  for (const [name, { version, env }] of Object.entries(APPS)) {
    const r = await h.api('POST', '/api/apps', { name, domains: [`${name}.test`], pocketbase_version: version, env });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const d = await h.waitDeployment(r.body.deployment_id);
    assert.equal(d.status, 'success', JSON.stringify(d.steps));
  }
});
after(async () => {
  await h?.stop();
});

const app = async (name: string) => (await h.api('GET', `/api/apps/${name}`)).body;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The app's view once it runs with a main process (right after a restart the daemon may not have heard yet). */
async function running(name: string): Promise<any> {
  let a: any;
  for (let i = 0; i < 100; i++) {
    a = await app(name);
    if (a.state === 'running' && a.runtime?.main_pid > 0) return a;
    await sleep(100);
  }
  throw new Error(`${name} is not running: ${JSON.stringify(a)}`);
}
const uidOf = async (user: string) => Number((await h.sbx.run(['id', '-u', user])).trim());

/** Uploads a bundle of files to an app and deploys it (the app restarts on it). */
async function deployBundle(name: string, files: RawEntry[]): Promise<void> {
  const form = new FormData();
  form.set('file', new Blob([new Uint8Array(buildZip(files))]), 'b.zip');
  const up = await fetch(`${h.url}/api/apps/${name}/bundles`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}` },
    body: form,
  });
  const bundle = (await up.json()) as any;
  assert.equal(up.status, 201, JSON.stringify(bundle));
  const d = await h.api('POST', `/api/apps/${name}/deploy`, { bundle: bundle.number });
  assert.equal(d.status, 202, JSON.stringify(d.body));
  const done = await h.waitDeployment(d.body.deployment_id);
  assert.equal(done.status, 'success', JSON.stringify(done.steps));
}

/** A GET through Caddy to an app's own route, retried for a while as the app (re)starts; the JSON it answered. */
async function askApp(name: string, path: string): Promise<any> {
  let last = '';
  for (const until = Date.now() + 20_000; Date.now() < until; await sleep(100)) {
    const r = await h.viaCaddy(`${name}.test`, path).catch((e: Error) => ({ status: 0, body: e.message }));
    if (r.status === 200) return JSON.parse(r.body);
    last = `${r.status} ${r.body}`;
  }
  throw new Error(`${name}${path}: ${last}`);
}

/**
 * The hostile code of app `self`: a route that, asked with the other app's main
 * PID, tries everything against the other app, pocketd and Caddy, and answers
 * what it got. Each try beside something the app may do (its own data, its own
 * env, a unix socket it may use) so that a refusal cannot come from a probe that
 * never works.
 */
function probeHook(self: Name): string {
  const other = otherOf(self);
  const { version } = APPS[self];
  const own = Object.keys(APPS[self].env)[0]!;
  const theirs = Object.keys(APPS[other].env)[0]!;
  // perl-base is Essential in Debian: a unix socket connect that prints its errno's name (or "open").
  const unixConnect = String.raw`socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die; print(connect($s, pack_sockaddr_un($ARGV[0])) ? "open" : (grep { $!{$_} } keys %!)[0])`;
  return jsonRouteHook(
    version,
    '/probe',
    String.raw`
  const pid = query("pid");
  const self = $os.getwd(); // the unit's WorkingDirectory: the app's own directory
  const names = (dir) => $os.readDir(dir).map((d) => d.name()).sort();
  const connect = (socket) => text($os.exec("perl", "-MSocket", "-e", ${JSON.stringify(unixConnect)}, socket).output());
  attempt("executable", () => $os.args[0]); // which PocketBase runs this hook
  attempt("cwd", () => self);
  attempt("own_uid", () => Number(text($os.exec("id", "-u").output()).trim()));
  attempt("own_env", () => $os.getenv("${own}"));
  attempt("other_env", () => $os.getenv("${theirs}"));
  attempt("read_own_data", () => $os.readFile(self + "/pb_data/data.db").length > 0);
  attempt("write_own", () => $os.writeFile(self + "/pb_data/probe.txt", "x", 0o600));
  attempt("list_own", () => names(self).indexOf("pb_data") >= 0);
  attempt("read_other_env", () => text($os.readFile("/etc/pocketd/env/${other}.env")));
  attempt("list_apps", () => names("/var/lib/pocketd-apps"));
  attempt("read_other_data", () => $os.readFile("/var/lib/pocketd-apps/${other}/pb_data/data.db").length);
  attempt("list_backups", () => names("/var/lib/pocketd-apps/.backups"));
  attempt("list_store", () => names("/var/lib/pocketd"));
  attempt("list_config", () => names("/etc/pocketd"));
  attempt("list_releases", () => names("/var/lib/pocketd-releases"));
  attempt("write_outside", () => $os.writeFile("/var/lib/pocketd-apps/${other}/pwned", "x", 0o644));
  attempt("see_other_proc", () => text($os.readFile("/proc/" + pid + "/status")).length);
  attempt("proc_uids", () => {
    const uids = {};
    names("/proc").filter((p) => /^\d+$/.test(p)).forEach((p) => {
      try {
        uids[/Uid:\s+(\d+)/.exec(text($os.readFile("/proc/" + p + "/status")))[1]] = true;
      } catch (err) {
        // gone since the listing
      }
    });
    return Object.keys(uids);
  });
  attempt("caddy_admin_tcp", () => $http.send({ url: "http://127.0.0.1:2019/config/", timeout: 5 }).statusCode);
  attempt("caddy_admin_unix", () => connect("/run/caddy/admin.sock"));
  attempt("journal_unix", () => connect("/run/systemd/journal/stdout"));
  // Last: were they let through, the other app would be gone for the tries above.
  attempt("kill_other", () => errno(sh("kill -9 " + pid)));
  attempt("stop_other", () => sh("systemctl --no-ask-password stop pb-${other}.service"));
  out.done = true;`,
  );
}

/** A route of `self` that asks a loopback port for PocketBase's health, as the app's code can: its status or refusal. */
function reachHook(self: Name): string {
  return jsonRouteHook(
    APPS[self].version,
    '/reach',
    `  attempt("health", () => $http.send({ url: "http://127.0.0.1:" + query("port") + "/api/health", timeout: 5 }).statusCode);`,
  );
}

/** What `self`'s probe must have found: every key, and what a breach looks like. */
function breaches(probe: Record<string, unknown>, self: Name, facts: { uid: number; version: string }): string[] {
  const other = otherOf(self);
  const oneOf =
    (...ok: unknown[]) =>
    (v: unknown) =>
      ok.includes(v);
  const eq = (want: unknown) => (v: unknown) => JSON.stringify(v) === JSON.stringify(want);
  const expect: Record<string, [(v: unknown) => boolean, string]> = {
    // It ran, as itself, with what is its own.
    executable: [eq(`/var/lib/pocketd-releases/${facts.version}/pocketbase`), "its release's PocketBase"],
    cwd: [eq(`/var/lib/pocketd-apps/${self}`), 'its own directory'],
    own_uid: [eq(facts.uid), `its own user's uid ${facts.uid}`],
    own_env: [eq(Object.values(APPS[self].env)[0]), 'its own env values'],
    read_own_data: [eq(true), 'its own database'],
    write_own: [eq('ok'), 'writes its own data'],
    list_own: [eq(true), 'lists its own directory'],
    journal_unix: [eq('open'), 'a unix socket any user may use (so the socket probe works)'],
    // Nothing of the other app.
    other_env: [eq(''), "not the other app's env"],
    read_other_env: [oneOf('EACCES', 'ENOENT'), "not the other app's env file"],
    list_apps: [eq([self]), 'no other app in the apps directory'],
    read_other_data: [eq('ENOENT'), "not the other app's data"],
    write_outside: [oneOf('ENOENT', 'EROFS', 'EACCES'), "no write into the other app's directory"],
    list_backups: [eq('ENOENT'), 'no backups directory'],
    list_releases: [eq([facts.version]), 'its own release alone'],
    kill_other: [oneOf('EPERM', 'ESRCH'), 'no signal to the other app'],
    stop_other: [(v) => typeof v === 'string' && /rc=[1-9]\d*\s*$/.test(v), 'systemd refuses to stop the other app'],
    see_other_proc: [eq('ENOENT'), "the other app's process is invisible"],
    proc_uids: [eq([String(facts.uid)]), 'only its own processes in /proc'],
    // Nothing of pocketd or Caddy.
    list_store: [oneOf('EACCES', 'ENOENT'), "not pocketd's store"],
    list_config: [oneOf('EACCES', 'ENOENT'), "not pocketd's config"],
    caddy_admin_tcp: [eq('ECONNREFUSED'), 'no Caddy admin on loopback TCP'],
    caddy_admin_unix: [oneOf('EACCES', 'ENOENT'), "not Caddy's admin socket"],
    done: [eq(true), 'the probe ran to its end'],
  };
  const out: string[] = [];
  for (const [k, [ok, what]] of Object.entries(expect))
    if (!ok(probe[k])) out.push(`${self}.${k} = ${JSON.stringify(probe[k])} (want: ${what}; other app ${other})`);
  for (const k of Object.keys(probe)) if (!(k in expect)) out.push(`${self}.${k}: not checked`);
  return out;
}

test("an app's own hooks reach nothing of another app, pocketd's store or Caddy's admin (0.22 and 0.23+ hooks)", async () => {
  for (const name of Object.keys(APPS) as Name[])
    await deployBundle(name, [
      { name: 'pb_hooks/probe.pb.js', data: probeHook(name) },
      { name: 'pb_hooks/reach.pb.js', data: reachHook(name) },
      { name: 'pb_public/index.html', data: name },
    ]);
  // Something of each to be found: a backup, the data, the env file, Caddy's admin socket.
  for (const name of Object.keys(APPS)) {
    const b = await h.api('POST', `/api/apps/${name}/backups`);
    assert.ok([201, 202].includes(b.status), JSON.stringify(b.body));
  }
  const before: Record<string, any> = {};
  for (const name of Object.keys(APPS) as Name[]) {
    before[name] = await running(name);
    assert.equal(before[name].version, APPS[name].version);
    for (const p of [
      `/var/lib/pocketd-apps/${name}/pb_data/data.db`,
      `/var/lib/pocketd-apps/.backups/${name}`,
      `/etc/pocketd/env/${name}.env`,
      `/proc/${before[name].runtime.main_pid}/status`,
      '/run/caddy/admin.sock',
      '/var/lib/pocketd',
    ])
      assert.equal(await h.sbx.exists(p), true, `${p} is there on the host`);
  }

  const found: string[] = [];
  for (const self of Object.keys(APPS) as Name[]) {
    const other = otherOf(self);
    const probe = await askApp(self, `/probe?pid=${before[other].runtime.main_pid}`);
    found.push(...breaches(probe, self, { uid: await uidOf(`pb-${self}`), version: APPS[self].version }));
    console.log(`${self} (PocketBase ${APPS[self].version}) probe: ${JSON.stringify(probe)}`);
  }
  assert.deepEqual(found, []);

  // Neither noticed.
  for (const name of Object.keys(APPS)) {
    const now = await app(name);
    assert.equal(now.state, 'running');
    assert.equal(now.runtime.main_pid, before[name].runtime.main_pid, `${name} kept its process`);
    assert.equal(await h.sbx.exists(`/var/lib/pocketd-apps/${name}/pwned`), false);
  }
});

test(
  "an app's hooks cannot reach another app's port on loopback, past Caddy",
  // design.md: apps cannot route to each other. Units cannot say it (both directions are 127.0.0.1), so the
  // helper keeps an nftables table: no app user may open a connection to another app's port (firewall.ts).
  {},
  async () => {
    for (const self of Object.keys(APPS) as Name[]) {
      const port = (await running(otherOf(self))).port;
      const r = await askApp(self, `/reach?port=${port}`);
      assert.equal(typeof r.health, 'string', `${self} reached ${otherOf(self)}'s port ${port}: ${JSON.stringify(r)}`);
    }
  },
);

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
  // Its home is not its directory: nothing reads per-user configuration from a place the app can write.
  assert.match(
    await h.sbx.run(['getent', 'passwd', 'pb-alpha']),
    /^pb-alpha:x:\d+:\d+:pocketd app alpha:\/nonexistent:\/usr\/sbin\/nologin$/m,
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
    pocketbase_version: PB_LATEST,
    superuser: { email: 'su@long.test', password: 'long-enough-pw' },
  });
  const d = await h.waitDeployment(r.body.deployment_id);
  assert.equal(d.status, 'success', JSON.stringify(d.steps));
  const user = (await h.sbx.run(['stat', '-c', '%U', `/var/lib/pocketd-apps/${name}`])).trim();
  assert.match(user, /^pb-a-very-long-app-name-[0-9a-f]{8}$/);
  assert.ok(user.length <= 32);
  // PocketBase runs as that user, and the superuser the create set signs in.
  const now = await app(name);
  assert.equal((await h.sbx.run(['ps', '-o', 'user:40=', '-p', String(now.runtime.main_pid)])).trim(), user);
  const signIn = await fetch(`http://127.0.0.1:${now.port}/api/collections/_superusers/auth-with-password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identity: 'su@long.test', password: 'long-enough-pw' }),
  });
  assert.equal(signIn.status, 200, await signIn.text());
  const del = await h.api('DELETE', `/api/apps/${name}?purge=true`);
  assert.equal(del.body.status, 'success');
  assert.equal((await h.sbx.exec(['getent', 'passwd', user])).code, 2, 'the user is removed with the app');
});

/** A 0.23+ migration that makes a public `notes` collection: data that must survive the move. */
const NOTES_MIGRATION = `migrate(
  (app) => {
    const notes = new Collection({
      type: "base",
      name: "notes",
      listRule: "",
      viewRule: "",
      createRule: "",
      fields: [{ name: "text", type: "text", required: true }],
    });
    app.save(notes);
  },
  (app) => {
    app.delete(app.findCollectionByNameOrId("notes"));
  },
);
`;

test('a host whose apps all ran as one shared user is migrated to a user per app on start, data kept', async () => {
  const r = await h.api('POST', '/api/apps', {
    name: 'legacy',
    domains: ['legacy.test'],
    pocketbase_version: PB_LATEST,
    env: { OLD: 'yes' },
  });
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
  // The app's own code: a collection of notes (a migration) and a hook that says who runs it and writes beside its data.
  await deployBundle('legacy', [
    { name: 'pb_migrations/1700000000_notes.js', data: NOTES_MIGRATION },
    {
      name: 'pb_hooks/whoami.pb.js',
      data: jsonRouteHook(
        PB_LATEST,
        '/whoami',
        `
  out.user = text($os.exec("id", "-un").output()).trim();
  attempt("wrote", () => $os.writeFile($os.getwd() + "/pb_data/whoami.txt", out.user, 0o600));
  out.env = $os.getenv("OLD");`,
      ),
    },
  ]);
  assert.deepEqual(await askApp('legacy', '/whoami'), { user: 'pb-legacy', wrote: 'ok', env: 'yes' });
  const port = (await app('legacy')).port;
  const note = await fetch(`http://127.0.0.1:${port}/api/collections/notes/records`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'before-migration' }),
  });
  assert.equal(note.status, 200, await note.text());
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
  // The old world as it was: the app's code runs as the shared user and writes its data as that user.
  assert.deepEqual(await askApp('legacy', '/whoami'), { user: 'pocketbase', wrote: 'ok', env: 'yes' });

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
  // Its code runs as its own user again, still writes its data, still gets its env; its notes are all there.
  assert.deepEqual(await askApp('legacy', '/whoami'), { user: 'pb-legacy', wrote: 'ok', env: 'yes' });
  assert.equal(await h.sbx.readFile('/var/lib/pocketd-apps/legacy/pb_data/whoami.txt'), 'pb-legacy');
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
