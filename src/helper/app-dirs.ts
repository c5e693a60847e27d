import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, lchown, lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';
import { ensureRootDir } from './root-files.js';
import { assertStopped } from './units.js';

/**
 * An app's directory and its backups. Root acts only on entries of directories
 * only root can change (the apps, archive and backups directories); everything
 * inside an app's own directory is done as the app (src/helper/as-app.ts).
 */

/** The app's directory itself: created or checked in the root-owned apps directory, then handed to the app. */
export async function prepareApp(ctx: HelperContext, name: string): Promise<void> {
  await ensureRootDir(ctx.config.apps_dir, 0o755);
  const dir = ctx.appDir(name);
  await mkdir(dir, { mode: 0o750 }).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EEXIST') throw err; });
  const st = await lstat(dir);
  if (!st.isDirectory()) throw new HelperError(72, `${dir} is not a directory`);
  const { uid, gid } = ctx.appIds(name);
  await lchown(dir, uid, gid);
  await chmod(dir, 0o750);
  await ctx.asApp(name, 'prepare');
}

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/** Moves the app's directory (and its backups) into the archive, out of the app's reach. Prints where. */
export async function archiveApp(ctx: HelperContext, name: string): Promise<string> {
  const dir = ctx.appDir(name);
  if (!(await lstat(dir).catch(() => null))) return '';
  await ensureRootDir(ctx.config.archive_dir, 0o700);
  const dest = path.join(ctx.config.archive_dir, `${name}-${stamp()}`);
  await rename(dir, dest);
  const backups = path.join(ctx.config.backups_dir, name);
  if (await lstat(backups).catch(() => null)) await rename(backups, path.join(dest, '.backups'));
  return dest;
}

/** Removes the app's directory and backups: first moved where only root can reach, then deleted there. */
export async function purgeApp(ctx: HelperContext, name: string): Promise<void> {
  await ensureRootDir(ctx.config.archive_dir, 0o700);
  for (const p of [ctx.appDir(name), path.join(ctx.config.backups_dir, name)]) {
    if (!(await lstat(p).catch(() => null))) continue;
    const away = path.join(ctx.config.archive_dir, `.purge-${name}-${randomBytes(6).toString('hex')}`);
    await rename(p, away);
    await rm(away, { recursive: true, force: true });
  }
}

const backupDir = (ctx: HelperContext, name: string) => path.join(ctx.config.backups_dir, name);

/** A backup is one tar file, written by root from the app's as-app `backup` output; root never reads what is in it. */
export async function backup(ctx: HelperContext, name: string, id: string): Promise<string> {
  await ensureRootDir(ctx.config.backups_dir, 0o700);
  await ensureRootDir(backupDir(ctx, name), 0o700);
  const file = path.join(backupDir(ctx, name), `${id}.tar`);
  if (await lstat(file).catch(() => null) || await lstat(path.join(backupDir(ctx, name), id)).catch(() => null)) {
    throw new HelperError(72, `backup ${id} exists`);
  }
  const tmp = path.join(backupDir(ctx, name), `.${id}.partial`);
  await rm(tmp, { force: true });
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await ctx.asApp(name, 'backup', { stdout: fh.fd });
    await fh.sync();
    const size = (await fh.stat()).size;
    await rename(tmp, file);
    return String(size);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    await fh.close();
  }
}

/** Restores a backup's pb_data while the app is at rest: root hands the app its backup as stdin. */
export async function restoreBackup(ctx: HelperContext, name: string, id: string): Promise<void> {
  await assertStopped(ctx, name);
  const file = path.join(backupDir(ctx, name), `${id}.tar`);
  const legacy = path.join(backupDir(ctx, name), id);
  if (await lstat(file).catch(() => null)) {
    const fh = await open(file, 'r');
    try { await ctx.asApp(name, 'restore', { stdin: fh.fd }); } finally { await fh.close(); }
    return;
  }
  // A backup an earlier pocketd kept as a root-owned directory: root makes the tar of its own tree.
  if (!(await lstat(path.join(legacy, 'pb_data')).catch(() => null))) throw new HelperError(72, `backup ${id} of ${name} is missing`);
  const tar = spawn('tar', ['-c', '-C', legacy, 'pb_data'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await ctx.asApp(name, 'restore', { stdin: tar.stdout });
}

export async function deleteBackup(ctx: HelperContext, name: string, id: string): Promise<void> {
  for (const f of [`${id}.tar`, `.${id}.partial`, id]) await rm(path.join(backupDir(ctx, name), f), { recursive: true, force: true });
}

/** stdin: the bundle zip, handed straight to the app's as-app `bundle-install`. */
export const installBundle = (ctx: HelperContext, name: string) => ctx.asApp(name, 'bundle-install', { stdin: 0 });
export const revertBundle = (ctx: HelperContext, name: string) => ctx.asApp(name, 'bundle-revert');
