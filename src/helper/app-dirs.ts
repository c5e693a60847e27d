import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, lchown, lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';
import { ensureRootDir, findUser, lookupUser } from './root-files.js';
import { assertStopped } from './units.js';
import { removeTree } from './remove-tree.js';
import { BUNDLE_DIRS } from './app-files.js';
import { runInSandbox } from './sandbox-run.js';
import { endAppProcesses, ensureAppUser, removeAppUser } from './users.js';

/**
 * An app's directory and its backups. Root acts only on entries of directories
 * only root can change (the apps, archive and backups directories); everything
 * inside an app's own directory is done as the app, in its sandbox
 * (src/helper/as-app.ts). Before root moves, re-owns or deletes an app's tree,
 * every process of the app is gone (checked), and deletion is descriptor-based.
 */

/** The app's directory itself: created or checked in the root-owned apps directory, then handed to the app. */
export async function prepareApp(ctx: HelperContext, name: string): Promise<void> {
  await ensureRootDir(ctx.config.apps_dir, 0o755);
  const dir = ctx.appDir(name);
  const hadUser = findUser(ctx.appUser(name)) !== null;
  const made = await mkdir(dir, { mode: 0o750 }).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
      return false;
    },
  );
  const st = await lstat(dir);
  if (!st.isDirectory()) throw new HelperError(72, `${dir} is not a directory`);
  const { uid, gid } = await ensureAppUser(ctx, name);
  // A directory another user owns (an app of an older layout) is migrated by migrate-app, never handed over here.
  if (st.uid !== uid && st.uid !== 0) throw new HelperError(72, `${dir} belongs to another user; migrate-app moves it`);
  if (made && !hadUser) {
    // Both the directory and the user are this call's: the uid was never given out before (a deleted app's is
    // retired), so no process of it exists and none can start, and the directory is still root's alone. Root
    // makes the data directories itself (issue #29: no sandbox to start), each handed over once made, the
    // app's directory last.
    for (const d of ['pb_data', ...BUNDLE_DIRS]) {
      await mkdir(path.join(dir, d), { mode: 0o750 });
      await lchown(path.join(dir, d), uid, gid);
    }
    await lchown(dir, uid, gid);
    return;
  }
  await lchown(dir, uid, gid);
  await chmod(dir, 0o750);
  // Its data directories are made as the app, in its sandbox, by mkdir itself: the same work as the helper's
  // as-app `prepare` without starting node (interpreted, --jitless) and its bundle inside the sandbox; the same mode (0750).
  await runInSandbox(ctx, name, ['/bin/mkdir', '-p', '-m', '0750', '--', 'pb_data', ...BUNDLE_DIRS]);
}

const stamp = () =>
  new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

/** Moves the app's directory (and its backups) into the archive, out of the app's reach. Prints where, then its size in bytes. */
export async function archiveApp(ctx: HelperContext, name: string): Promise<string> {
  const dir = ctx.appDir(name);
  // Nothing of the app may run while root works on its tree: the unit, its work units, every process of its user.
  await endAppProcesses(ctx, name);
  if (!(await lstat(dir).catch(() => null))) {
    await removeAppUser(ctx, name);
    return '';
  }
  await ensureRootDir(ctx.config.archive_dir, 0o700);
  const dest = path.join(ctx.config.archive_dir, `${name}-${stamp()}`);
  await rename(dir, dest);
  const backups = path.join(ctx.config.backups_dir, name);
  if (await lstat(backups).catch(() => null)) await rename(backups, path.join(dest, '.backups'));
  // Out of every app's reach now: root's, so that a later user with the same uid owns nothing in it.
  await ctx.run(72, 'chown', ['-R', '--no-dereference', 'root:root', dest]);
  await removeAppUser(ctx, name);
  // Root's own tree now, which no process owns: its size is counted once here, for the store's list.
  const size = (await ctx.run(72, 'du', ['-s', '-b', '--', dest]).catch(() => '')).split('\t')[0]?.trim() ?? '';
  return /^\d+$/.test(size) ? `${dest}\n${size}` : dest;
}

/** Removes the app's directory and backups: first moved where only root can reach, then deleted there. */
export async function purgeApp(ctx: HelperContext, name: string): Promise<void> {
  await endAppProcesses(ctx, name);
  for (const p of [ctx.appDir(name), path.join(ctx.config.backups_dir, name)]) {
    const away = await moveAway(ctx, p, 'purge');
    if (away) await removeTree(ctx, away);
  }
  await removeAppUser(ctx, name);
}

/**
 * Moves an app of an older layout (every app ran as one shared user) to its own
 * user, the app stopped: its directory is read by the old user and written by
 * the new one, two processes joined by a pipe, into a new directory beside it
 * in the root-owned apps directory; then root swaps the two names. Root reads
 * and writes nothing in either tree. Nothing to do when it is done already.
 */
export async function migrateApp(ctx: HelperContext, name: string): Promise<string> {
  await assertStopped(ctx, name);
  const dir = ctx.appDir(name);
  const st = await lstat(dir);
  const { uid, gid } = await ensureAppUser(ctx, name);
  if (st.uid === uid) return 'already its own';
  const legacy = lookupUser(ctx.config.apps_user);
  if (!st.isDirectory() || st.uid !== legacy.uid)
    throw new HelperError(72, `${dir} belongs to neither ${ctx.config.apps_user} nor the app's user`);
  const next = path.join(ctx.config.apps_dir, `.migrate-${name}`);
  await moveAway(ctx, next, 'stale-migrate');
  await mkdir(next, { mode: 0o750 });
  await lchown(next, uid, gid);
  // Revert points and half-done swaps an older helper left as root's are not carried over.
  const reader = spawn(
    'tar',
    ['-c', '-C', dir, '--exclude=./.prev', '--exclude=./.pb_data.old', '--exclude=./.pb_data.restoring', '.'],
    { stdio: ['ignore', 'pipe', 'pipe'], uid: legacy.uid, gid: legacy.gid, cwd: '/' },
  );
  let readErr = '';
  reader.stderr.on('data', (d: Buffer) => {
    readErr += d.toString();
  });
  // 'exit', not 'close': its stdout belongs to the writer now, so 'close' would never come.
  const readDone = new Promise<number>((resolve) => reader.on('exit', (code) => resolve(code ?? 1)));
  await ctx.run(72, 'tar', ['-x', '-C', next], { uid, gid, cwd: '/', stdin: reader.stdout, timeoutMs: 60 * 60_000 });
  const code = await readDone;
  if (code !== 0)
    throw new HelperError(
      72,
      `reading ${dir} as ${ctx.config.apps_user} failed: ${readErr.trim().split('\n').slice(-2).join('; ')}`,
    );
  await chmod(next, 0o750);
  const old = await moveAway(ctx, dir, 'pre-migration');
  await rename(next, dir);
  if (old) await removeTree(ctx, old);
  return `now owned by ${ctx.appUser(name)}`;
}

/** Renames a path out of everyone's reach into the archive; returns where, or null when there was nothing. */
async function moveAway(ctx: HelperContext, p: string, why: string): Promise<string | null> {
  if (!(await lstat(p).catch(() => null))) return null;
  await ensureRootDir(ctx.config.archive_dir, 0o700);
  const away = path.join(ctx.config.archive_dir, `.${why}-${path.basename(p)}-${randomBytes(6).toString('hex')}`);
  await rename(p, away);
  return away;
}

const backupDir = (ctx: HelperContext, name: string) => path.join(ctx.config.backups_dir, name);

/** A backup is one tar file, written by root from the app's as-app `backup` output; root never reads what is in it. */
export async function backup(ctx: HelperContext, name: string, id: string): Promise<string> {
  await ensureRootDir(ctx.config.backups_dir, 0o700);
  await ensureRootDir(backupDir(ctx, name), 0o700);
  const file = path.join(backupDir(ctx, name), `${id}.tar`);
  if ((await lstat(file).catch(() => null)) || (await lstat(path.join(backupDir(ctx, name), id)).catch(() => null))) {
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
    try {
      await ctx.asApp(name, 'restore', { stdin: fh.fd });
    } finally {
      await fh.close();
    }
    return;
  }
  // A backup an earlier pocketd kept as a root-owned directory: root makes the tar of its own tree.
  if (!(await lstat(path.join(legacy, 'pb_data')).catch(() => null)))
    throw new HelperError(72, `backup ${id} of ${name} is missing`);
  const tar = spawn('tar', ['-c', '-C', legacy, 'pb_data'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const done = new Promise<number>((resolve) => tar.on('exit', (code) => resolve(code ?? 1)));
  await ctx.asApp(name, 'restore', { stdin: tar.stdout });
  if ((await done) !== 0) throw new HelperError(72, `reading backup ${id} of ${name} failed`);
}

export async function deleteBackup(ctx: HelperContext, name: string, id: string): Promise<void> {
  for (const f of [`${id}.tar`, `.${id}.partial`, id])
    await rm(path.join(backupDir(ctx, name), f), { recursive: true, force: true });
}

/** stdin: the bundle zip, handed straight to the app's as-app `bundle-install`. */
export const installBundle = (ctx: HelperContext, name: string) =>
  ctx.asApp(name, 'bundle-install', { stdin: 0 }).then(() => undefined);
export const revertBundle = (ctx: HelperContext, name: string) =>
  ctx.asApp(name, 'bundle-revert').then(() => undefined);
