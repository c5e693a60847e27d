import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { sql } from '../../src/db/kysely.js';
import { openDatabase, migrateToLatest } from '../../src/db/database.js';
import { migrations } from '../../src/db/migrations/index.js';
import { tempDir } from '../support/tmp.js';

test('migrations run from an empty database and are idempotent', async () => {
  const { dir, cleanup } = tempDir();
  const db = openDatabase(path.join(dir, 'x.db'));
  try {
    const first = await migrateToLatest(db);
    assert.deepEqual(
      first.results?.map((r) => r.status),
      Object.keys(migrations).map(() => 'Success'),
    );
    const second = await migrateToLatest(db);
    assert.equal(second.results?.length, 0);
    const tables = (
      await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)
    ).rows.map((r) => r.name);
    for (const t of ['apps', 'deployments', 'deployment_steps', 'users', 'tokens', 'audit_log'])
      assert.ok(tables.includes(t), t);
    const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
    assert.equal(mode.rows[0]?.journal_mode, 'wal');
    const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db);
    assert.equal(fk.rows[0]?.foreign_keys, 1);
  } finally {
    await db.destroy();
    cleanup();
  }
});

test('a failing migration stops and names itself', async () => {
  const { dir, cleanup } = tempDir();
  const db = openDatabase(path.join(dir, 'x.db'));
  try {
    await sql`create table users (id integer)`.execute(db);
    await assert.rejects(migrateToLatest(db), /migration 0001_initial failed: .*users/);
  } finally {
    await db.destroy();
    cleanup();
  }
});
