import { randomBytes } from 'node:crypto';
import { copyFile, lstat, mkdir, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { exec } from '../shared/exec.js';

/**
 * File work shared by the as-app operations (src/helper/as-app.ts,
 * src/helper/as-app-trial.ts). Runs only as the app, inside its sandbox.
 */

export const BUNDLE_DIRS = ['pb_public', 'pb_hooks', 'pb_migrations'] as const;

export const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );

/** Removes a path; what cannot be removed (left by an older helper as root's) is moved aside instead. */
export async function clear(p: string): Promise<void> {
  try {
    await rm(p, { recursive: true, force: true });
  } catch {
    await rename(p, `${p}.stale-${randomBytes(4).toString('hex')}`);
  }
}

/** Copies pb_data: each SQLite database as a snapshot of one read transaction (consistent while the app runs). */
export async function copyData(from: string, to: string): Promise<void> {
  for (const name of await readdir(from)) {
    // SQLite's side files come and go with its connections; the .backup copy covers what they hold.
    if (/\.db-(wal|shm|journal)$/.test(name)) continue;
    const src = path.join(from, name);
    const dst = path.join(to, name);
    const st = await lstat(src).catch(() => null);
    if (!st) continue;
    if (st.isDirectory()) {
      await mkdir(dst, { mode: 0o700 });
      await copyData(src, dst);
    } else if (st.isSymbolicLink()) {
      await symlink(await readlink(src), dst);
    } else if (!st.isFile()) {
      continue;
    } else if (name.endsWith('.db')) {
      if (!/^[A-Za-z0-9._/-]+$/.test(dst)) {
        process.stderr.write(`skipped a database with an unusual name\n`);
        continue;
      }
      // VACUUM INTO copies one read transaction's snapshot: consistent however the app writes meanwhile, and
      // done in one pass. The online backup API (`.backup`) starts over whenever another process writes, so
      // under steady writes a database of some size never finished (40 MB at 50 writes/s: still copying after
      // 20 s, where VACUUM INTO took 0.5 s). -init /dev/null: no ~/.sqliterc or other file the app planted is read;
      // .timeout: a moment of the app's WAL checkpoint is waited for, not failed on.
      await exec(
        'sqlite3',
        ['-init', '/dev/null', '-bail', '-batch', '-cmd', '.timeout 10000', src, `VACUUM INTO '${dst}'`],
        { timeoutMs: 30 * 60_000 },
      );
    } else {
      await copyFile(src, dst);
    }
  }
}
