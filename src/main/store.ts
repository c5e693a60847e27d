import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createAuthService } from '../core/auth/auth.js';
import { migrateToLatest, openDatabase } from '../db/database.js';
import type { Config } from '../shared/config.js';

/** Opens the store and the auth service; used by `serve` and by the admin/token commands. */
export async function openStore(config: Config) {
  const db = openDatabase(config.db_file);
  await migrateToLatest(db);
  const auth = createAuthService(db, {
    sessionDays: config.session_days,
    maxFailures: config.login_max_failures,
    maxFailuresPerAddress: config.login_max_failures_per_address,
    lockSeconds: config.login_lock_seconds,
  });
  return { db, auth };
}

/** The store is the daemon's alone from creation on: its directory 0700, every file in it 0600 (db, -wal, -shm). */
export async function makePrivate(config: Config): Promise<void> {
  process.umask(0o077);
  await mkdir(config.staging_dir, { recursive: true, mode: 0o700 });
  await chmod(config.data_dir, 0o700);
  await chmod(config.staging_dir, 0o700);
  for (const f of ['', '-wal', '-shm']) await chmod(`${config.db_file}${f}`, 0o600).catch(() => undefined);
  await chmod(path.join(config.data_dir, 'bundles'), 0o700).catch(() => undefined);
}
