import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createAuthService } from '../core/auth/auth.js';
import { createAdmins } from '../core/auth/admins.js';
import { createSecretBox } from '../core/auth/secret-box.js';
import { createTwoFactor } from '../core/auth/two-factor.js';
import { migrateToLatest, openDatabase } from '../db/database.js';
import type { Config } from '../shared/config.js';

/**
 * Opens the store, the auth service and the admins (with their second factor, whose secrets are sealed
 * with a key in the data directory); used by `serve` and by the admin/token commands.
 */
export async function openStore(config: Config) {
  const db = openDatabase(config.db_file);
  await migrateToLatest(db);
  const twoFactor = createTwoFactor(db, createSecretBox(path.join(config.data_dir, 'secrets.key')));
  const auth = createAuthService(db, {
    sessionDays: config.session_days,
    maxFailures: config.login_max_failures,
    maxFailuresPerAddress: config.login_max_failures_per_address,
    lockSeconds: config.login_lock_seconds,
    secondFactor: (userId, code) => twoFactor.check(userId, code),
  });
  return { db, auth, admins: createAdmins(db, auth, twoFactor) };
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
