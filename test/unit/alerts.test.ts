import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import pino from 'pino';
import { openDatabase, migrateToLatest, type Database } from '../../src/db/database.js';
import { createAlerts, type Alerts } from '../../src/core/alerts/alerts.js';
import { createChannels, type Channels } from '../../src/core/alerts/channels.js';
import { createEventBus } from '../../src/core/events.js';
import { tempDir } from '../support/tmp.js';
import type { OperationKind } from '../../src/contract/operations.js';

/** The incident rules in-process, with a real SQLite store (delivery is tested against real receivers in alerts integration tests). */
let db: Database;
let alerts: Alerts;
let channels: Channels;
let cleanup: () => void;
let ch = 0;
const events = createEventBus();
before(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  db = openDatabase(path.join(t.dir, 'p.db'));
  await migrateToLatest(db);
  channels = createChannels(db);
  alerts = createAlerts(
    { db, channels, events, log: pino({ level: 'silent' }) },
    {
      after: 2,
      remindMinutes: 0,
      diskPercent: 10,
      ratePerMinute: 20,
      timeoutMs: 1000,
      retryMax: 2,
      retryMs: 100,
      disks: [],
    },
  );
  ch = (await channels.create({ kind: 'webhook', name: 'w', url: 'http://127.0.0.1:9/x' })).channel.id;
  await alerts.addRule({ kinds: ['app_down', 'certificate'], app: 'shop', channel_id: ch });
});
after(async () => {
  await db.destroy();
  cleanup();
});

const queued = async () =>
  (await db.selectFrom('alert_outbox').select(['event', 'payload']).orderBy('id').execute()).map(
    (r) => `${r.event}: ${JSON.parse(r.payload).title}`,
  );

test('down after `after` bad checks, once; up after as many good ones, once; one good check between does not close it', async () => {
  await alerts.healthChecked('shop', 'unhealthy', 'answered 500');
  assert.deepEqual(await queued(), []);
  await alerts.healthChecked('shop', 'unhealthy', 'answered 500');
  await alerts.healthChecked('shop', 'unhealthy', 'answered 500');
  await alerts.healthChecked('shop', 'healthy', null);
  await alerts.healthChecked('shop', 'unhealthy', 'answered 500');
  await alerts.healthChecked('shop', 'unhealthy', 'answered 500');
  assert.deepEqual(await queued(), ['opened: shop is down']);
  await alerts.healthChecked('shop', 'healthy', null);
  await alerts.healthChecked('shop', 'healthy', null);
  await alerts.healthChecked('shop', 'healthy', null);
  assert.deepEqual(await queued(), ['opened: shop is down', 'resolved: shop is up again']);
});

test("a rule for one app: another app's incidents go nowhere, but are recorded", async () => {
  for (let i = 0; i < 3; i++) await alerts.healthChecked('blog', 'unhealthy', null);
  assert.equal((await queued()).length, 2);
  assert.ok((await alerts.incidents(true, 10)).some((i) => i.app === 'blog'));
});

test('certificates: none, ending within 14 days (or a quarter of a short lifetime) are incidents; a fine one closes it', async () => {
  const day = 86_400_000;
  const iso = (ms: number) => new Date(Date.now() + ms).toISOString();
  await alerts.certificateChecked(
    'shop',
    { domain: 'shop.example.com', error: 'the TLS handshake failed (ECONNRESET); Caddy: could not get certificate' },
    14,
  );
  await alerts.certificateChecked('shop', { domain: 'shop.example.com', error: 'again' }, 14);
  await alerts.certificateChecked(
    'shop',
    { domain: 'old.example.com', error: null, valid_from: iso(-80 * day), valid_until: iso(10 * day - 1800_000) },
    14,
  );
  await alerts.certificateChecked(
    'shop',
    { domain: 'short.example.com', error: null, valid_from: iso(-3600_000), valid_until: iso(11 * 3600_000) },
    14,
  );
  await alerts.certificateChecked(
    'shop',
    { domain: 'shop.example.com', error: null, valid_from: iso(-day), valid_until: iso(89 * day) },
    14,
  );
  assert.deepEqual((await queued()).slice(2), [
    'opened: no certificate for shop.example.com',
    'opened: the certificate of old.example.com ends in 239 hours',
    'resolved: the certificate of shop.example.com is fine again',
  ]);
});

test("rules and channels are validated; a channel's secrets never leave through list()", async () => {
  const listed = JSON.stringify(await channels.list());
  assert.ok(!listed.includes('127.0.0.1:9/x') && listed.includes('http://127.0.0.1:9/********'));
  await assert.rejects(alerts.addRule({ kinds: ['app_down'], app: null, channel_id: 999 }), /no channel 999/);
});

test('a failed deployment and a failed scheduled backup are one notice each; a manual backup that fails is not', async () => {
  await alerts.addRule({ kinds: ['deployment_failed', 'backup_failed', 'disk_low'], app: null, channel_id: ch });
  const at = new Date().toISOString();
  const add = async (kind: OperationKind, actor: string, status: 'failed' | 'rolled_back') =>
    (
      await db
        .insertInto('deployments')
        .values({ app: 'shop', kind, status, params: '{}', error: 'the health gate failed', actor, created_at: at })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  alerts.start();
  try {
    const before = (await queued()).length;
    for (const [kind, actor, status] of [
      ['upgrade', 'admin@example.com', 'rolled_back'],
      ['backup', 'pocketd:schedule', 'failed'],
      ['backup', 'admin@example.com', 'failed'],
    ] as const) {
      events.publish('deployment.finished', 'shop', {
        deployment_id: await add(kind, actor, status),
        status,
        error: 'x',
      });
    }
    await new Promise((r) => setTimeout(r, 100));
    const got = (await queued()).slice(before);
    assert.equal(got.length, 2, got.join(' | '));
    assert.match(got[0]!, /^notice: upgrade #\d+ of shop rolled back$/);
    assert.equal(got[1], 'notice: a scheduled backup of shop failed');
  } finally {
    await alerts.stop();
  }
});

test('a disk under its threshold is an incident; room again closes it', async () => {
  const t = tempDir();
  const tight = createAlerts(
    { db, channels, events: createEventBus(), log: pino({ level: 'silent' }) },
    {
      after: 2,
      remindMinutes: 0,
      diskPercent: 100,
      ratePerMinute: 20,
      timeoutMs: 1000,
      retryMax: 2,
      retryMs: 100,
      disks: [{ name: 'data', path: t.dir }],
    },
  );
  const roomy = createAlerts(
    { db, channels, events: createEventBus(), log: pino({ level: 'silent' }) },
    {
      after: 2,
      remindMinutes: 0,
      diskPercent: 0,
      ratePerMinute: 20,
      timeoutMs: 1000,
      retryMax: 2,
      retryMs: 100,
      disks: [{ name: 'data', path: t.dir }],
    },
  );
  try {
    await tight.checkDisks();
    await tight.checkDisks();
    assert.equal((await alerts.incidents(true, 50)).filter((i) => i.kind === 'disk_low').length, 1);
    await roomy.checkDisks();
    assert.equal((await alerts.incidents(true, 50)).filter((i) => i.kind === 'disk_low').length, 0);
    assert.ok((await queued()).some((q) => /^resolved: the data disk has room again/.test(q)));
  } finally {
    t.cleanup();
  }
});

test('an incident still open is reminded of; a channel sends at most its rate a minute, the rest wait their turn', async () => {
  const http = await import('node:http');
  let received = 0;
  const server = http.createServer((_req, res) => {
    received++;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const local = createEventBus();
  const limited = createAlerts(
    { db, channels, events: local, log: pino({ level: 'silent' }) },
    {
      after: 1,
      // 1.2 s: a round of the outbox (whose delivery wakes it again) on a loaded machine took over 240 ms,
      // and a second round that late reminded again.
      remindMinutes: 0.02,
      diskPercent: 0,
      ratePerMinute: 1,
      timeoutMs: 1000,
      retryMax: 2,
      retryMs: 100,
      disks: [],
    },
  );
  const id = (await channels.create({ kind: 'webhook', name: 'limited', url: `http://127.0.0.1:${port}/hook` })).channel
    .id;
  await limited.addRule({ kinds: ['host_check'], app: null, channel_id: id });
  try {
    await limited.hostChecked('journal', false, 'unreadable');
    await new Promise((r) => setTimeout(r, 1300));
    // One round of the outbox: the reminder is due, the opened message goes first. Read as soon as both are
    // there (a second reminder could not be due for another 1.2 s).
    limited.start();
    const outbox = () =>
      db
        .selectFrom('alert_outbox')
        .select(['event', 'status', 'next_at'])
        .where('channel_id', '=', id)
        .orderBy('id')
        .execute();
    let rows = await outbox();
    for (let i = 0; i < 100 && !(rows.length >= 2 && rows[0]!.status === 'sent'); i++) {
      await new Promise((r) => setTimeout(r, 20));
      rows = await outbox();
    }
    assert.deepEqual(
      rows.map((r) => r.event),
      ['opened', 'reminder'],
      'the open incident was reminded of',
    );
    assert.equal(received, 1, 'one message in the minute');
    assert.deepEqual(
      rows.map((r) => r.status),
      ['sent', 'pending'],
    );
    assert.ok(Date.parse(rows[1]!.next_at) > Date.now(), 'the second waits its turn');
  } finally {
    await limited.stop();
    server.close();
  }
});
