import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { notesOf, seedApp } from '../support/pb-app.js';
import { appCode } from '../support/app-code.js';
import {
  s3TargetOf,
  sftpTargetOf,
  startS3,
  startSftp,
  type S3Server,
  type SftpServer,
} from '../support/replica-servers.js';
import { until } from '../support/until.js';
import { PB_LATEST } from '../support/pocketbase.js';

/**
 * Off-host replication (issue #27) against a real S3-compatible server
 * (versitygw) and a real sshd, both started by the harness outside the
 * sandbox, with real PocketBase and real Litestream.
 */
let h: PocketdHost;
let s3: S3Server;
let sftp: SftpServer;
let port = 0;
const s3Target = () => s3TargetOf(s3, 'host1');

before(async () => {
  s3 = await startS3();
  sftp = await startSftp();
  h = await setupPocketdHost({ settings: { replica_check_seconds: '5', replica_lag_alert_seconds: '10' } });
  const r = await h.api('POST', '/api/apps', { name: 'shop', pocketbase_version: PB_LATEST });
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
  port = r.body.port;
  await seedApp(h, 'shop');
});
after(async () => {
  await h?.stop();
  await s3?.stop();
  await sftp?.stop();
});

const replicaOf = async (app: string) => (await h.api('POST', `/api/apps/${app}/replica/check`)).body;

test('a target is refused with the field named when it is malformed or its credentials do not work', async () => {
  const bad = [
    [{ ...s3Target(), endpoint: 'http://127.0.0.1:1/x' }, 'target.endpoint'],
    [{ ...s3Target(), path: '../up' }, 'target.path'],
    [{ ...s3Target(), secret_access_key: 'has$dollar' }, 'target.secret_access_key'],
    [{ ...s3Target(), bucket: 'A' }, 'target.bucket'],
    [{ ...s3Target(), extra: 1 }, 'target.extra'],
  ] as const;
  for (const [target, field] of bad) {
    const r = await h.api('PUT', '/api/apps/shop/replica', { target });
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.ok(
      r.body.error.fields.some((f: { field: string }) => f.field === field),
      `${field}: ${JSON.stringify(r.body.error.fields)}`,
    );
  }
  // Well-formed, but the real server refuses the secret: tried before it is saved.
  const wrong = await h.api('PUT', '/api/apps/shop/replica', {
    target: { ...s3Target(), secret_access_key: 'wrongwrongwrong' },
  });
  assert.equal(wrong.status, 422, JSON.stringify(wrong.body));
  assert.equal(wrong.body.error.fields[0].code, 'REPLICA_UNREACHABLE');
  assert.match(wrong.body.error.message, /SignatureDoesNotMatch/);
  assert.ok(!wrong.body.error.message.includes('wrongwrongwrong'));
  const nobucket = await h.api('PUT', '/api/apps/shop/replica', {
    target: { ...s3Target(), bucket: 'no-such-bucket' },
  });
  assert.equal(nobucket.status, 422);
  assert.match(nobucket.body.error.message, /NoSuchBucket/);
  assert.equal((await h.api('GET', '/api/apps/shop/replica')).status, 404);
});

test('replicates continuously to S3, encrypted, and no answer, property or log carries the secret', async () => {
  const put = await h.api('PUT', '/api/apps/shop/replica', { target: s3Target() });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.target.has_secret_access_key, true);
  assert.ok(!JSON.stringify(put.body).includes(s3.secretKey));
  const notes = notesOf(port);
  await notes.add('first');
  const v = await until(
    () => replicaOf('shop'),
    (x) => x.status.generation !== null && x.status.error === null,
    30_000,
    500,
  );
  assert.match(v.status.generation, /^[0-9a-f]{16}$/);
  assert.ok(v.status.last_sync_at);
  // What the server holds is age ciphertext, under the app's name and identity.
  const keys = s3.keys();
  assert.ok(
    keys.some((k) => k.startsWith(`host1/shop.${put.body.app_id}/data.db/generations/`)),
    keys.join('\n'),
  );
  for (const k of keys.filter((x) => x.endsWith('.lz4'))) {
    const head = readFileSync(path.join(s3.root, s3.bucket, k))
      .subarray(0, 22)
      .toString();
    assert.equal(head, 'age-encryption.org/v1\n', k);
  }
  // A read token sees the status, never the secret.
  const tok = (await h.api('POST', '/api/tokens', { name: 'ro', scope: 'app:shop:read' })).body.token;
  const ro = await h.api('GET', '/api/apps/shop/replica', undefined, tok);
  assert.equal(ro.status, 200);
  assert.ok(!JSON.stringify(ro.body).includes(s3.secretKey));
  assert.equal((await h.api('PUT', '/api/apps/shop/replica', { target: s3Target() }, tok)).status, 403);
  // Not in the unit's properties (anyone may read them over D-Bus), not in the journal, not in argv.
  const props = await h.sbx.run(['systemctl', 'show', 'pocketd-replica-shop.service']);
  assert.match(props, /ActiveState=active/);
  assert.ok(!props.includes(s3.secretKey));
  const journal = await h.sbx.run(['journalctl', '--no-pager', '-o', 'cat', '-n', '5000']);
  assert.ok(!journal.includes(s3.secretKey));
  const ps = await h.sbx.run(['ps', '-eo', 'args']);
  assert.ok(!ps.includes(s3.secretKey));
  assert.match(ps, /litestream replicate -no-expand-env -config/);
});

test("the app's own code can read neither the credentials nor the key, nor stop its replication", async () => {
  const r = await appCode(
    h.sbx,
    'shop',
    [
      'for f in /etc/pocketd/replica/shop.json /etc/pocketd/replica/pocketd-replica-shop.yml /etc/pocketd/replica/age.key /run/credentials/pocketd-replica-shop.service/litestream.yml; do',
      '  if cat "$f" >/dev/null 2>&1; then echo "READ $f"; else echo "denied $f"; fi',
      'done',
      'pid=$(pgrep -f "litestream replicate" | head -1); echo "pid=$pid"',
      'for p in /proc/[0-9]*; do grep -l litestream $p/cmdline 2>/dev/null; done | head -3',
      'kill -9 $(pgrep -f litestream) 2>&1 || echo "no kill"',
    ].join('\n'),
  );
  assert.ok(!/READ /.test(r.stdout), r.stdout);
  assert.equal((r.stdout.match(/denied /g) ?? []).length, 4, r.stdout);
  assert.ok(!r.stdout.includes(s3.secretKey));
  await sleep(500);
  assert.equal(
    (await h.sbx.run(['systemctl', 'show', '-p', 'ActiveState', '--value', 'pocketd-replica-shop.service'])).trim(),
    'active',
  );
});

test('restores to a point in time as a queued deployment with a snapshot and the health gate', async () => {
  const notes = notesOf(port);
  await notes.add('before-1');
  await notes.add('before-2');
  // Wait until what was written is in the target, then mark the instant.
  await sleep(2500);
  const t = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await sleep(1500);
  await notes.add('after-1');
  await sleep(2500);
  const r = await h.api('POST', '/api/apps/shop/restore', { timestamp: t });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const d = await h.waitDeployment(r.body.deployment_id, 180_000);
  assert.equal(d.status, 'success', JSON.stringify(d.steps));
  assert.deepEqual(
    d.steps.map((s: { name: string }) => s.name),
    ['validate', 'stop', 'snapshot', 'stop_replica', 'restore_replica', 'start', 'wait_health', 'start_replica'],
  );
  const now = await notes.list();
  assert.ok(now.includes('before-2'), now.join(','));
  assert.ok(!now.includes('after-1'), now.join(','));
  // The latest brings back what a deletion took.
  const latest = await h.api('POST', '/api/apps/shop/restore', {});
  assert.equal((await h.waitDeployment(latest.body.deployment_id, 180_000)).status, 'success');
  assert.ok((await notes.list()).includes('before-2'));
  // A time in the future or malformed is refused with its field.
  for (const timestamp of ['2999-01-01T00:00:00Z', 'yesterday', '2026-13-01T00:00:00Z']) {
    const bad = await h.api('POST', '/api/apps/shop/restore', { timestamp });
    assert.equal(bad.status, 422, timestamp);
    assert.equal(bad.body.error.fields[0].field, 'timestamp');
  }
});

test('replicates to SFTP (a real sshd) and clones an app from a replica', async () => {
  const r = await h.api('POST', '/api/apps', { name: 'blog', pocketbase_version: PB_LATEST });
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
  await seedApp(h, 'blog');
  await notesOf(r.body.port).add('blog-note');
  const target = sftpTargetOf(sftp);
  const put = await h.api('PUT', '/api/apps/blog/replica', { target });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.target.has_private_key, true);
  assert.ok(!JSON.stringify(put.body).includes('PRIVATE KEY'));
  const v = await until(
    () => replicaOf('blog'),
    (x) => x.status.generation !== null,
    30_000,
    500,
  );
  assert.equal(v.status.error, null);
  await sleep(2000);
  const c = await h.api('POST', '/api/apps/blog/clone', { name: 'blog-staging' });
  assert.equal(c.status, 202, JSON.stringify(c.body));
  assert.equal((await h.waitDeployment(c.body.deployment_id)).status, 'success');
  const d = await h.waitDeployment(c.body.restore.deployment_id, 180_000);
  assert.equal(d.status, 'success', JSON.stringify(d.steps));
  assert.deepEqual(await notesOf(c.body.port).list(), ['blog-note']);
});

test('an app at rest (stopped: no -wal, no -shm) is replicated, and runs again beside its replica', async () => {
  // PocketBase's last connection going (a stop, a sleep, or minutes without a request) takes the -wal and -shm
  // with it; Litestream must make them again. Before pb_data was opened to the app's group (0770) it retried
  // "attempt to write a readonly database" every second and the target never held the app's data.
  const r = await h.api('POST', '/api/apps', { name: 'idle', pocketbase_version: PB_LATEST });
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
  await seedApp(h, 'idle');
  await notesOf(r.body.port).add('before-rest');
  assert.equal((await h.api('POST', '/api/apps/idle/stop')).status, 200);
  const sides = () => h.sbx.run(['sh', '-c', 'ls /var/lib/pocketd-apps/idle/pb_data | grep "^data.db" | sort']);
  assert.equal((await sides()).trim(), 'data.db');
  const put = await h.api('PUT', '/api/apps/idle/replica', { target: { ...s3Target(), path: 'rest' } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const v = await until(
    () => replicaOf('idle'),
    (x) => x.status.generation !== null && x.status.error === null,
    30_000,
    1000,
  ).catch(async (err: Error) => {
    const j = await h.sbx.run([
      'journalctl',
      '--no-pager',
      '-o',
      'cat',
      '-n',
      '5',
      '-u',
      'pocketd-replica-idle.service',
    ]);
    throw new Error(`${err.message}\n${j}`);
  });
  assert.equal(v.status.error, null);
  assert.equal(
    (await h.sbx.run(['stat', '-c', '%U %G %a', '/var/lib/pocketd-apps/idle/pb_data'])).trim(),
    'pb-idle pb-idle 770',
  );
  // The side files Litestream made are the app's group's: the app starts, reads and writes.
  const start = await h.api('POST', '/api/apps/idle/start');
  assert.equal(start.status, 200, JSON.stringify(start.body));
  // Started, it answers once PocketBase has opened its databases beside Litestream's connection (not at once).
  await until(
    () =>
      notesOf(r.body.port)
        .add('after-rest')
        .then(
          () => true,
          () => false,
        ),
    (ok) => ok,
    30_000,
    500,
  ).catch(async (err: Error) => {
    const j = await h.sbx.run(['journalctl', '--no-pager', '-o', 'cat', '-n', '8', '-u', 'pb-idle.service']);
    throw new Error(`${err.message}\n${j}`);
  });
  assert.deepEqual(await notesOf(r.body.port).list(), ['before-rest', 'after-rest']);
  assert.equal((await replicaOf('idle')).status.error, null);
});

test('a replica an older pocketd installed (no layout line, pb_data 0750) is installed again when the daemon starts', async () => {
  // Hosts upgraded in place kept the replica unit of layout 1 and pb_data 0750, on which an app at rest stalls.
  const unit = '/etc/systemd/system/pocketd-replica-idle.service';
  await h.sbx.run(['sed', '-i', '/^# pocketd-replica-layout:/d', unit]);
  await h.sbx.run(['chmod', '0750', '/var/lib/pocketd-apps/idle/pb_data']);
  await h.killDaemon();
  const layout = await until(
    () => h.sbx.run(['sh', '-c', `grep '^# pocketd-replica-layout:' ${unit} || true`]),
    (t) => t.trim() !== '',
    60_000,
    500,
  );
  assert.equal(layout.trim(), '# pocketd-replica-layout: 2');
  assert.equal((await h.sbx.run(['stat', '-c', '%a', '/var/lib/pocketd-apps/idle/pb_data'])).trim(), '770');
  const journal = await h.sbx.run([
    'sh',
    '-c',
    'journalctl -u pocketd -o cat --no-pager | grep "installed again" || true',
  ]);
  assert.match(journal, /"app":"idle"/);
  // Another start changes nothing: the unit is of the current layout now.
  const before = await h.sbx.run(['stat', '-c', '%Y', unit]);
  await h.killDaemon();
  assert.equal(await h.sbx.run(['stat', '-c', '%Y', unit]), before);
});

test('a failing target raises a replica incident through the alerts, resolved when it answers again', async () => {
  const outage = await s3.outage();
  const failing = await replicaOf('shop');
  assert.ok(failing.status.error, JSON.stringify(failing.status));
  const open = await until(
    async () =>
      (await h.api('GET', '/api/alerts/incidents?open=true')).body.incidents as Array<{ kind: string; app: string }>,
    (xs) => xs.some((i) => i.kind === 'replica' && i.app === 'shop'),
    30_000,
    500,
  );
  assert.ok(open.length > 0);
  await outage.restart();
  const ok = await until(
    () => replicaOf('shop'),
    (x) => x.status.error === null,
    30_000,
    1000,
  );
  assert.equal(ok.status.error, null);
  await until(
    async () => (await h.api('GET', '/api/alerts/incidents?open=true')).body.incidents as Array<{ kind: string }>,
    (xs) => !xs.some((i) => i.kind === 'replica'),
    30_000,
    500,
  );
});
