import { spawn } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { ArchiveSpec } from '../shared/protocol.js';
import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';
import { BUNDLE_DIRS } from './app-files.js';
import { removeTree } from './remove-tree.js';
import { assertStopped } from './units.js';

/**
 * A deleted app's archive (archive-app made it: root's, in the archive directory only root can
 * enter, the app's user gone). Root reads only its own tree, which no live process owns, and
 * never writes into an app's directory: the new app unpacks the tar in its own sandbox.
 */

/** The archive's directory, checked: a real directory of root's, a direct entry of the archive directory. */
async function archiveEntry(ctx: HelperContext, spec: ArchiveSpec): Promise<string> {
  const dir = path.join(ctx.config.archive_dir, spec.archive);
  const st = await lstat(dir).catch(() => null);
  if (!st) throw new HelperError(72, `archive ${spec.archive} is missing`);
  if (!st.isDirectory() || st.uid !== 0) throw new HelperError(72, `archive ${spec.archive} is not root's directory`);
  return dir;
}

/**
 * Copies an archive's data and bundle directories into a new, stopped app (its directory made by
 * prepare-app): root writes a tar of its own archive (links stored as links, never followed) to
 * the app's as-app `archive-restore`, which unpacks it as the app. The archive is left as it was.
 * The old app's backups (`.backups`) and its revert point stay in the archive: they belong to the old identity.
 */
export async function restoreArchive(ctx: HelperContext, name: string, spec: ArchiveSpec): Promise<string> {
  await assertStopped(ctx, name);
  const src = await archiveEntry(ctx, spec);
  const dirs: string[] = [];
  for (const d of ['pb_data', ...BUNDLE_DIRS]) {
    const st = await lstat(path.join(src, d)).catch(() => null);
    if (st?.isDirectory()) dirs.push(d);
  }
  if (!dirs.includes('pb_data')) throw new HelperError(72, `archive ${spec.archive} holds no pb_data`);
  const tar = spawn('tar', ['-c', '-C', src, '--', ...dirs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: '/',
  });
  let err = '';
  tar.stderr.on('data', (d: Buffer) => {
    if (err.length < 4096) err += d.toString();
  });
  const done = new Promise<number>((resolve) => tar.on('exit', (code) => resolve(code ?? 1)));
  try {
    await ctx.asApp(name, 'archive-restore', { stdin: tar.stdout, timeoutMs: 60 * 60_000 });
  } finally {
    if (tar.exitCode === null) tar.kill();
  }
  if ((await done) !== 0)
    throw new HelperError(72, `reading archive ${spec.archive} failed: ${err.trim().split('\n').slice(-2).join('; ')}`);
  return dirs.join(' ');
}

/** Deletes an archive for good (descriptor-based, as purge does). */
export async function deleteArchive(ctx: HelperContext, spec: ArchiveSpec): Promise<void> {
  const dir = path.join(ctx.config.archive_dir, spec.archive);
  if (!(await lstat(dir).catch(() => null))) return;
  await removeTree(ctx, dir);
}
