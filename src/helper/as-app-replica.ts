import { chmod, lstat, mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { exec } from '../shared/exec.js';
import { REPLICATED_DBS } from '../shared/replica-rules.js';
import { clear, exists } from './app-files.js';

/**
 * The app's side of replication, run as the app inside its own sandbox
 * (src/helper/as-app.ts): its databases are opened to its group (mode 0660)
 * so that the replica's unit, a member of that group, can read them and keep
 * its place in their WAL; SQLite gives a new -wal and -shm the mode of their
 * database, so this holds across the app's restarts.
 *
 * pb_data itself is group-writable (0770): an app that is stopped, asleep,
 * or idle long enough for PocketBase to close its connections has no -wal and
 * -shm (SQLite deletes them with its last connection), and Litestream must
 * make them to open the database; without that right it retried "attempt to
 * write a readonly database" every second and the app's data never reached
 * the target (the 50-app bench's stall). The replica's units run with the
 * app's group as their primary group, so what they make there is the app's
 * group's and the app opens it too (a setgid directory would say the same, but
 * the app's sandbox may not set that bit: RestrictSUIDSGID=).
 */

/** The mode of pb_data while the app has a replica: its group may make and remove its databases' side files. */
export const REPLICATED_DATA_MODE = 0o770;

/** Databases and their side files, group read-write; nothing else of pb_data changes. */
export async function replicaPrepare(app: string): Promise<void> {
  const data = path.join(app, 'pb_data');
  await mkdir(data, { recursive: true, mode: 0o750 });
  await chmod(data, REPLICATED_DATA_MODE);
  for (const db of REPLICATED_DBS)
    for (const f of [db, `${db}-wal`, `${db}-shm`]) {
      const st = await lstat(path.join(data, f)).catch(() => null);
      // A link planted in pb_data is not followed (chmod would change its target).
      if (st?.isFile()) await chmod(path.join(data, f), 0o660);
    }
}

/**
 * stdin: a tar of restored databases (what the replica's unit printed). Each
 * one replaces the app's database of its name, its -wal and -shm removed (they
 * belong to the database it replaces); the app is stopped (the helper checked).
 */
export async function replicaRestore(app: string): Promise<void> {
  const data = path.join(app, 'pb_data');
  const stage = path.join(app, '.replica.restoring');
  await clear(stage);
  await mkdir(stage, { mode: 0o700 });
  await mkdir(data, { recursive: true, mode: 0o750 });
  try {
    await exec('tar', ['-x', '--no-same-owner', '--no-same-permissions', '-C', stage], {
      stdin: 0,
      timeoutMs: 60 * 60_000,
    });
    let restored = 0;
    for (const db of REPLICATED_DBS) {
      const st = await lstat(path.join(stage, db)).catch(() => null);
      if (!st?.isFile()) continue;
      for (const side of ['-wal', '-shm', '-journal']) await clear(path.join(data, `${db}${side}`));
      await chmod(path.join(stage, db), 0o660);
      await rename(path.join(stage, db), path.join(data, db));
      restored++;
    }
    if (restored === 0 || !(await exists(path.join(data, 'data.db'))))
      throw new Error('the replica held no data.db to restore');
    await replicaPrepare(app);
  } finally {
    await clear(stage);
  }
}
