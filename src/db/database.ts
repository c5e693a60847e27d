import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import type { MigrationResultSet } from 'kysely';
import { Kysely, Migrator, SqliteDialect } from './kysely.js';
import { migrations } from './migrations/index.js';
import { compareStrings } from '../shared/order.js';
import type { DB } from './schema.js';

export type Database = Kysely<DB>;

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Opens (creating if needed) the SQLite store with WAL and foreign keys on. */
export function openDatabase(file: string): Database {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  return new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
}

/** Runs every pending migration; a failure throws naming the migration. */
export async function migrateToLatest(db: Database): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    // Kysely's default order is localeCompare, which loads ICU's collation tables for names that are ASCII.
    nameComparator: compareStrings,
  });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const reason = result.error instanceof Error ? result.error.message : JSON.stringify(result.error);
    throw new MigrationError(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${reason}`);
  }
  return result;
}
