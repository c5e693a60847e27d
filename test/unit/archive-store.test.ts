import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { openDatabase, migrateToLatest } from '../../src/db/database.js';
import { archiveStore } from '../../src/core/archives/archive-store.js';
import { createSecretBox } from '../../src/core/auth/secret-box.js';
import type { StoredApp } from '../../src/core/apps/store.js';
import { archiveSpecSchema } from '../../src/shared/protocol.js';
import { tempDir } from '../support/tmp.js';

const ARCHIVE = '/var/lib/pocketd-apps/.archive';
const appOf = (name: string, appId: string, env: Record<string, string>): StoredApp =>
  ({
    row: { name, app_id: appId, health_path: '/ok', backup_schedule: '0 3 * * *', backup_keep: 4 },
    settings: {
      name,
      port: 20001,
      version: '0.40.6',
      domains: [`${name}.test`],
      env,
      memory_max: '256M',
      cpu_quota: 50,
      sleep_after: 900,
      wake_port: 20002,
    },
  }) as unknown as StoredApp;

test('an archive keeps settings and env keys in clear, env values sealed to its identity; entries are checked', async () => {
  const { dir, cleanup } = tempDir();
  const db = openDatabase(path.join(dir, 'x.db'));
  try {
    await migrateToLatest(db);
    const store = archiveStore(db, createSecretBox(path.join(dir, 'secrets.key')), ARCHIVE);
    const secret = 'the-secret-value-123';
    const id = await store.record(
      appOf('shop', 'aaaa', { API_SECRET: secret, MODE: 'x' }),
      `${ARCHIVE}/shop-20261130T070000Z\n4096`,
    );
    assert.ok(id);
    const a = await store.get(id);
    assert.equal(a.size_bytes, 4096);
    assert.deepEqual(a.settings.env_keys, ['API_SECRET', 'MODE']);
    assert.equal(a.settings.health_path, '/ok');
    assert.equal(a.settings.sleep_after, 900);
    assert.deepEqual(await store.env(id), { API_SECRET: secret, MODE: 'x' });
    // Nothing in the database file says the value.
    await db.destroy();
    for (const f of ['x.db', 'x.db-wal'].filter((n) => existsSync(path.join(dir, n))))
      assert.ok(!readFileSync(path.join(dir, f)).includes(secret), f);
    const db2 = openDatabase(path.join(dir, 'x.db'));
    const again = archiveStore(db2, createSecretBox(path.join(dir, 'secrets.key')), ARCHIVE);
    // A sealed env moved to another archive's row (another identity) does not open.
    const other = await again.record(appOf('blog', 'bbbb', {}), `${ARCHIVE}/blog-20261130T070001Z\n1`);
    const sealed = (
      await db2.selectFrom('archives').select('env_sealed').where('id', '=', id).executeTakeFirstOrThrow()
    ).env_sealed;
    await db2.updateTable('archives').set({ env_sealed: sealed }).where('id', '=', other!).execute();
    await assert.rejects(again.env(other!));
    // What the helper names outside the archive directory, or not as archive-app names them, is not recorded.
    assert.equal(await again.record(appOf('x1', 'c1', {}), `/etc/x1-20261130T070000Z\n1`), null);
    assert.equal(await again.record(appOf('x2', 'c2', {}), `${ARCHIVE}/../x2-20261130T070000Z\n1`), null);
    assert.equal(await again.record(appOf('x3', 'c3', {}), `${ARCHIVE}/.purge-x3\n1`), null);
    await db2.destroy();
  } finally {
    cleanup();
  }
});

test('retention: older than keep_days, or past the newest max', async () => {
  const { dir, cleanup } = tempDir();
  const db = openDatabase(path.join(dir, 'x.db'));
  try {
    await migrateToLatest(db);
    const store = archiveStore(db, createSecretBox(path.join(dir, 'secrets.key')), ARCHIVE);
    for (let i = 0; i < 5; i++)
      await store.record(appOf(`app${i}`, `id${i}`, {}), `${ARCHIVE}/app${i}-20261130T07000${i}Z\n1`);
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    await db.updateTable('archives').set({ deleted_at: old }).where('name', '=', 'app4').execute();
    assert.deepEqual(
      (await store.expired(30, 10)).map((a) => a.name),
      ['app4'],
    );
    assert.deepEqual((await store.expired(30, 2)).map((a) => a.name).sort(), ['app0', 'app1', 'app4']);
    assert.equal((await store.list()).length, 5);
  } finally {
    await db.destroy();
    cleanup();
  }
});

test('the helper takes an archive only by the name archive-app gives it', () => {
  for (const ok of ['shop-20261130T070000Z', 'my-app-2-20200101T000000Z'])
    assert.ok(archiveSpecSchema.safeParse({ archive: ok }).success, ok);
  for (const bad of [
    '../etc',
    'shop',
    '.purge-shop-abc',
    'shop-20261130T070000Z/../../etc',
    'Shop-20261130T070000Z',
    '',
  ])
    assert.ok(!archiveSpecSchema.safeParse({ archive: bad }).success, bad);
  assert.ok(!archiveSpecSchema.safeParse({ archive: 'shop-20261130T070000Z', extra: 1 }).success);
});
