import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { exec } from '../shared/exec.js';
import { FILE_DIRS } from '../shared/replica-files.js';
import { clear, exists } from './app-files.js';

/**
 * The app's side of replicating its files (issue #27), run as the app inside
 * its own sandbox (src/helper/as-app.ts): it signs and tars its own tree, and
 * unpacks a restored one into it. Root only carries the bytes between this
 * and the replica's unit; it never walks the tree.
 */

const MAX_ENTRIES = 2_000_000;

/** Prints a signature of the file directories (names, sizes, modification times): unchanged trees sign alike. */
export async function filesSignature(app: string): Promise<void> {
  const h = createHash('sha256');
  let n = 0;
  async function walk(rel: string): Promise<void> {
    const entries = await readdir(path.join(app, rel), { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (++n > MAX_ENTRIES) throw new Error(`more than ${MAX_ENTRIES} files to replicate`);
      const r = path.join(rel, e.name);
      const st = await lstat(path.join(app, r)).catch(() => null);
      if (!st) continue;
      h.update(`${r}\0${st.mode}\0${st.size}\0${st.mtimeMs}\n`);
      if (st.isDirectory()) await walk(r);
    }
  }
  for (const d of FILE_DIRS) await walk(d);
  process.stdout.write(`${h.digest('hex')}\n`);
}

/** Prints a tar of the file directories that exist (links are kept as links, never followed). */
export async function filesTar(app: string): Promise<void> {
  const dirs: string[] = [];
  for (const d of FILE_DIRS) if ((await lstat(path.join(app, d)).catch(() => null))?.isDirectory()) dirs.push(d);
  // An empty tar still says "no files" (the manifest travels apart): tar of nothing needs -T /dev/null.
  const what = dirs.length > 0 ? dirs : ['-T', '/dev/null'];
  await exec('tar', ['-c', '--format=posix', '-C', app, ...what], { stdout: 1, timeoutMs: 60 * 60_000 });
}

/**
 * stdin: a tar of file directories (a replica's). Unpacked beside the app, then
 * each directory it holds replaces the app's; the app is stopped (the helper checked).
 */
export async function filesUntar(app: string): Promise<void> {
  const stage = path.join(app, '.replica.files');
  const old = path.join(app, '.replica.files-old');
  await clear(stage);
  await clear(old);
  await mkdir(stage, { mode: 0o750 });
  await mkdir(old, { mode: 0o700 });
  try {
    await exec('tar', ['-x', '--no-same-owner', '--no-same-permissions', '-C', stage], {
      stdin: 0,
      timeoutMs: 60 * 60_000,
    });
    await mkdir(path.join(app, 'pb_data'), { recursive: true, mode: 0o750 });
    for (const d of FILE_DIRS) {
      const from = path.join(stage, d);
      if (!(await lstat(from).catch(() => null))?.isDirectory()) continue;
      if (await exists(path.join(app, d))) await rename(path.join(app, d), path.join(old, d.replace('/', '_')));
      await rename(from, path.join(app, d));
    }
  } finally {
    await clear(stage);
    await clear(old);
  }
}
