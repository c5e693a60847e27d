import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { notesOf, seedApp } from '../support/pb-app.js';
import { jsonRouteHook } from '../support/pb-hooks.js';
import { PB_LATEST } from '../support/pocketbase.js';

/**
 * Issue #31: a deleted app comes back from its archive, with its data, its settings and its env,
 * as a NEW app; the old app's tokens reach nothing of it, and no env value leaks on the way.
 */

const APPS = '/var/lib/pocketd-apps';
const ARCHIVE = `${APPS}/.archive`;
const SECRET = `archived-${randomBytes(12).toString('hex')}`;

let h: PocketdHost;
let archiveId = 0;
const tokens: Record<'manage' | 'deploy' | 'read', string> = { manage: '', deploy: '', read: '' };

async function waitOk(r: { status: number; body: any }, expect = 'success') {
  assert.ok([200, 202].includes(r.status), JSON.stringify(r.body));
  const d = await h.waitDeployment(r.body.deployment_id);
  assert.equal(d.status, expect, JSON.stringify(d.steps));
  return d;
}

/** What the app's hook reads of its own environment (its process, not pocketd's record). */
async function envSeenBy(app: string): Promise<string> {
  const port = (await h.api('GET', `/api/apps/${app}`)).body.port as number;
  const r = await fetch(`http://127.0.0.1:${port}/_test/env`);
  assert.equal(r.status, 200);
  return ((await r.json()) as { value: string }).value;
}

before(async () => {
  h = await setupPocketdHost();
  await waitOk(
    await h.api('POST', '/api/apps', {
      name: 'keep',
      domains: ['keep.test'],
      pocketbase_version: PB_LATEST,
      env: { ARCHIVE_SECRET: SECRET, PLAIN: 'plain-value' },
      memory_max: '256M',
      health_path: '/api/health',
    }),
  );
  // A hook that answers what the process got in its environment, written as the app's owner could.
  const hook = jsonRouteHook(PB_LATEST, '/_test/env', 'out.value = $os.getenv("ARCHIVE_SECRET");');
  await h.sbx.run(['sh', '-c', 'cat > "$0"', `${APPS}/keep/pb_hooks/env.pb.js`], { user: 'pb-keep', input: hook });
  await seedApp(h, 'keep');
  await notesOf((await h.api('GET', '/api/apps/keep')).body.port).add('kept-note');
  assert.equal(await envSeenBy('keep'), SECRET);
  // The app's own code plants links for root to follow when the archive is read back (it must not).
  await h.sbx.run(
    [
      'sh',
      '-c',
      'cd "$0" && ln -s /etc/shadow pb_data/shadow-link && rm -rf pb_public && ln -s /etc pb_public',
      `${APPS}/keep`,
    ],
    { user: 'pb-keep' },
  );
  for (const level of ['manage', 'deploy', 'read'] as const)
    tokens[level] = (await h.api('POST', '/api/tokens', { name: `keep-${level}`, scope: `app:keep:${level}` })).body
      .token as string;
  const d = await waitOk(await h.api('DELETE', '/api/apps/keep'));
  assert.ok(d.steps.some((s: any) => s.name === 'archive_data' && s.status === 'success'));
});
after(async () => {
  await h?.stop();
});

test('a delete keeps an archive: listed from the store with its settings and env keys, never an env value', async () => {
  const r = await h.api('GET', '/api/archives');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.ok(!JSON.stringify(r.body).includes(SECRET), 'an env value in the list');
  const a = r.body.archives.find((x: any) => x.name === 'keep');
  assert.ok(a, JSON.stringify(r.body));
  archiveId = a.id;
  assert.equal(a.pocketbase_version, PB_LATEST);
  assert.deepEqual(a.domains, ['keep.test']);
  assert.equal(a.memory_max, '256M');
  assert.deepEqual([...a.env_keys].sort(), ['ARCHIVE_SECRET', 'PLAIN']);
  assert.ok(a.size_bytes > 0);
  assert.equal(r.body.keep_days, 30);
  // Sealed in the store: what the row holds is not the value.
  const sealed = await h.sbx.run([
    'sqlite3',
    '-readonly',
    '/var/lib/pocketd/pocketd.db',
    `SELECT env_sealed FROM archives WHERE id = ${archiveId}`,
  ]);
  assert.match(sealed, /^v1\./);
  assert.ok(!sealed.includes(SECRET) && !sealed.includes(Buffer.from(SECRET).toString('base64')));
  // The host's CLI reads the same list (--json), without a value either.
  const cli = await h.sbx.exec(['/usr/local/bin/pocketd', 'archives', 'list', '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual(
    JSON.parse(cli.stdout).archives.map((x: any) => x.id),
    r.body.archives.map((x: any) => x.id),
  );
  assert.ok(!cli.stdout.includes(SECRET));
  const table = await h.sbx.exec(['/usr/local/bin/pocketd', 'archives', 'list']);
  assert.match(table.stdout, /keep\s.*keep\.test/);
  const unasked = await h.sbx.exec(['/usr/local/bin/pocketd', 'archives', 'delete', String(archiveId)]);
  assert.equal(unasked.code, 2, 'a delete without --yes is refused');
  assert.equal((await h.api('GET', '/api/archives')).body.archives.length, 1);
});

test("the deleted app's tokens (manage, deploy, read) cannot list, restore or delete archives", async () => {
  for (const [level, t] of Object.entries(tokens)) {
    for (const [method, path, body] of [
      ['GET', '/api/archives', undefined],
      ['POST', `/api/archives/${archiveId}/restore`, { name: 'stolen' }],
      ['DELETE', `/api/archives/${archiveId}`, undefined],
    ] as const) {
      const r = await h.api(method, path, body, t);
      assert.ok([401, 403].includes(r.status), `${level} ${method} ${path}: ${r.status}`);
      assert.ok(!JSON.stringify(r.body).includes(SECRET));
    }
  }
  assert.equal((await h.api('GET', '/api/apps/stolen')).status, 404);
});

test('hostile restore names, domains and ids are 422 naming the field; an unknown archive is 404', async () => {
  const cases: Array<[unknown, string]> = [
    [{ name: '../etc' }, 'name'],
    [{ name: 'Keep' }, 'name'],
    [{ name: 'a\nb' }, 'name'],
    [{ name: 'x'.repeat(40) }, 'name'],
    [{ domains: ['not a domain'] }, 'domains'],
    [{ domains: ['evil.test\n}\nimport /etc/passwd'] }, 'domains'],
    [{ domains: ['a.test', 'a.test'] }, 'domains'],
    [{ name: 'ok-name', env: { X: 'y' } }, ''],
  ];
  for (const [body, field] of cases) {
    const r = await h.api('POST', `/api/archives/${archiveId}/restore`, body);
    assert.equal(r.status, 422, `${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    if (field)
      assert.ok(
        r.body.error.fields.some((f: any) => f.field.startsWith(field)),
        JSON.stringify(r.body),
      );
  }
  for (const id of ['0', '-1', 'abc', '1.5', '99999999999999999999'])
    assert.equal((await h.api('POST', `/api/archives/${id}/restore`, {})).status, 422, id);
  assert.equal((await h.api('POST', '/api/archives/999999/restore', {})).status, 404);
  assert.equal((await h.api('DELETE', '/api/archives/999999')).status, 404);
  // Nothing was made by any of them.
  assert.deepEqual((await h.api('GET', '/api/apps')).body.apps, []);
});

test('a restore that fails leaves no half-made app and the archive as it was', async () => {
  const before = (await h.api('GET', '/api/archives')).body.archives.find((x: any) => x.id === archiveId);
  const entry = (await h.sbx.run(['ls', ARCHIVE])).split('\n').find((n) => n.startsWith('keep-'))!;
  // The fault: the archive's data directory is away (root does this here, as the test).
  await h.sbx.run(['mv', `${ARCHIVE}/${entry}/pb_data`, `${ARCHIVE}/${entry}/pb_data.away`]);
  try {
    const d = await waitOk(await h.api('POST', `/api/archives/${archiveId}/restore`, { name: 'half' }), 'failed');
    assert.equal(d.steps.find((s: any) => s.name === 'copy_archive').status, 'failed', JSON.stringify(d.steps));
  } finally {
    await h.sbx.run(['mv', `${ARCHIVE}/${entry}/pb_data.away`, `${ARCHIVE}/${entry}/pb_data`]);
  }
  assert.equal((await h.api('GET', '/api/apps/half')).status, 404);
  for (const p of [`${APPS}/half`, '/etc/systemd/system/pb-half.service', '/etc/pocketd/env/half.env'])
    assert.equal(await h.sbx.exists(p), false, p);
  assert.equal((await h.sbx.exec(['id', 'pb-half'])).code !== 0, true, 'the half-made user is gone');
  const still = (await h.api('GET', '/api/archives')).body.archives.find((x: any) => x.id === archiveId);
  assert.deepEqual(still, before);
});

test('restored under a new name: the record written through PocketBase and the env value are back, behind the health gate', async () => {
  const r = await h.api('POST', `/api/archives/${archiveId}/restore`, { name: 'back' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal(r.body.name, 'back');
  const d = await waitOk(r);
  assert.equal(d.kind, 'restore-archive');
  const names = d.steps.map((s: any) => s.name);
  assert.deepEqual(names.slice(0, 4), ['validate', 'fetch_release', 'create_dirs', 'copy_archive']);
  assert.ok(names.indexOf('wait_health') > names.indexOf('start'));
  const app = (await h.api('GET', '/api/apps/back')).body;
  assert.equal(app.state, 'running');
  assert.equal(app.version, PB_LATEST);
  assert.deepEqual(app.domains, ['keep.test']);
  assert.equal(app.memory_max, '256M');
  assert.deepEqual(await notesOf(app.port).list(), ['kept-note']);
  assert.equal(await envSeenBy('back'), SECRET);
  assert.equal((await h.viaCaddy('keep.test')).status, 200);
  // The links the old app planted came back as links (root followed none): no copy of /etc or /etc/shadow.
  assert.equal((await h.sbx.run(['readlink', `${APPS}/back/pb_data/shadow-link`])).trim(), '/etc/shadow');
  assert.equal((await h.sbx.run(['stat', '-c', '%F', `${APPS}/back/pb_public`])).trim(), 'directory');
  assert.equal((await h.sbx.run(['ls', '-A', `${APPS}/back/pb_public`])).trim(), '');
  // Its files are its own user's, none root's.
  assert.equal((await h.sbx.run(['sh', '-c', `find ${APPS}/back ! -user pb-back | head -3`])).trim(), '');
  // The deleted app's tokens reach nothing of it.
  for (const [level, t] of Object.entries(tokens))
    for (const path of ['/api/apps/back', '/api/apps/back/env', '/api/deployments?app=back'])
      assert.ok([401, 403].includes((await h.api('GET', path, undefined, t)).status), `${level} ${path}`);
});

test('a clone under the old name: a domain another app serves is refused as a create refuses it; the old tokens still reach nothing', async () => {
  const taken = await h.api('POST', `/api/archives/${archiveId}/restore`, {});
  assert.equal(taken.status, 422, JSON.stringify(taken.body));
  assert.ok(taken.body.error.fields.some((f: any) => f.field === 'domains.0' && f.code === 'DOMAIN_TAKEN'));
  const name = await h.api('POST', `/api/archives/${archiveId}/restore`, { name: 'back', domains: [] });
  assert.equal(name.status, 422);
  assert.ok(name.body.error.fields.some((f: any) => f.field === 'name'));
  // Through the host's CLI this time: it waits, prints each step, and exits 0 on success.
  const cli = await h.sbx.exec([
    '/usr/local/bin/pocketd',
    'archives',
    'restore',
    String(archiveId),
    '--domain',
    'keep2.test',
  ]);
  assert.equal(cli.code, 0, cli.stdout + cli.stderr);
  assert.match(cli.stdout + cli.stderr, /copy_archive/);
  const bad = await h.sbx.exec(['/usr/local/bin/pocketd', 'archives', 'restore', String(archiveId), '--name', 'Bad!']);
  assert.equal(bad.code, 2);
  const app = (await h.api('GET', '/api/apps/keep')).body;
  assert.deepEqual(app.domains, ['keep2.test']);
  assert.deepEqual(await notesOf(app.port).list(), ['kept-note']);
  for (const [level, t] of Object.entries(tokens))
    assert.equal((await h.api('GET', '/api/apps/keep', undefined, t)).status, 401, level);
  // A live app's own tokens cannot touch the archives either.
  for (const level of ['read', 'deploy', 'manage']) {
    const t = (await h.api('POST', '/api/tokens', { name: `back-${level}`, scope: `app:back:${level}` })).body.token;
    assert.equal((await h.api('GET', '/api/archives', undefined, t)).status, 403, level);
    assert.equal((await h.api('DELETE', `/api/archives/${archiveId}`, undefined, t)).status, 403, level);
    assert.equal((await h.api('POST', `/api/archives/${archiveId}/restore`, { name: 'x-y' }, t)).status, 403, level);
  }
});

test('no env value in the journal (sudo logs argv there), unit properties or deployment answers', async () => {
  const journal = await h.sbx.run(['journalctl', '--no-pager', '-o', 'verbose']);
  assert.ok(!journal.includes(SECRET), 'the env value is in the journal');
  for (const app of ['back', 'keep']) {
    const props = await h.sbx.run(['systemctl', 'show', `pb-${app}.service`]);
    assert.ok(!props.includes(SECRET), `the env value is in pb-${app}.service's properties`);
  }
  const deployments = await h.api('GET', '/api/deployments?limit=100');
  assert.ok(!JSON.stringify(deployments.body).includes(SECRET));
  const env = await h.api('GET', '/api/apps/back/env');
  assert.ok(!JSON.stringify(env.body).includes(SECRET), 'a secret-looking key is masked');
});

test('an archive deleted for good: its tree goes, it is no longer listed or restorable', async () => {
  const entries = (await h.sbx.run(['ls', ARCHIVE])).split('\n').filter((n) => n.startsWith('keep-'));
  assert.equal(entries.length, 1);
  assert.equal((await h.api('DELETE', `/api/archives/${archiveId}`)).status, 204);
  assert.equal(await h.sbx.exists(`${ARCHIVE}/${entries[0]}`), false);
  assert.ok(!(await h.api('GET', '/api/archives')).body.archives.some((a: any) => a.id === archiveId));
  assert.equal((await h.api('POST', `/api/archives/${archiveId}/restore`, { name: 'late' })).status, 404);
  // The restored apps are their own: still running with their data.
  assert.deepEqual(await notesOf((await h.api('GET', '/api/apps/back')).body.port).list(), ['kept-note']);
});
