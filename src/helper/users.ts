import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';
import { endProcessesOf } from './processes.js';
import { withIdLock } from './id-lock.js';
import { ensureRootDir, findUser, readIfExists, writeRootFile, type PasswdEntry } from './root-files.js';
import { unitName, workUnitPattern } from '../shared/naming.js';

/**
 * Each app's own system user and group (`appUserOf`), made by the helper at
 * prepare and removed at archive and purge. A user of that name that pocketd
 * did not make (its comment says whose it is) is never used for an app.
 *
 * Its home is `/nonexistent`: nothing the app can write is ever read as a
 * user's configuration. Its uid comes from root's range (`app_uid_min` to
 * `app_uid_max`) and is never given out again once an app has had it: a
 * deleted app's uid is recorded as retired, so no leftover of the old app (a
 * process, a file anywhere) can belong to a new one.
 */

const commentOf = (name: string) => `pocketd app ${name}`;
export const APP_HOME = '/nonexistent';

/** The app's user, or a refusal when the name belongs to someone else. */
export function appIdentity(ctx: HelperContext, name: string): PasswdEntry {
  const u = findUser(ctx.appUser(name));
  if (!u) throw new HelperError(72, `app ${name} has no user ${ctx.appUser(name)} (prepare-app makes it)`);
  if (u.comment !== commentOf(name) || u.uid === 0)
    throw new HelperError(72, `user ${ctx.appUser(name)} exists and is not pocketd's for app ${name}`);
  return u;
}

const retiredFile = (ctx: HelperContext) => path.join(ctx.config.state_dir, 'retired-uids.json');

async function retired(ctx: HelperContext): Promise<Set<number>> {
  const text = await readIfExists(retiredFile(ctx));
  if (text === null) return new Set();
  const v: unknown = JSON.parse(text);
  if (!Array.isArray(v) || !v.every((n) => Number.isInteger(n)))
    throw new HelperError(72, 'retired-uids.json is damaged');
  return new Set(v as number[]);
}

async function retire(ctx: HelperContext, uid: number): Promise<void> {
  const set = await retired(ctx);
  if (set.has(uid)) return;
  set.add(uid);
  await ensureRootDir(ctx.config.state_dir, 0o700);
  await writeRootFile(
    ctx.config.state_dir,
    'retired-uids.json',
    `${JSON.stringify([...set].sort((a, b) => a - b))}\n`,
    0o600,
  );
}

/** Ids in passwd or group, or ever given to an app: none of them is handed out. */
async function freeId(ctx: HelperContext): Promise<number> {
  const taken = await retired(ctx);
  for (const file of ['/etc/passwd', '/etc/group'])
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      const id = Number(line.split(':')[2]);
      if (Number.isInteger(id)) taken.add(id);
    }
  for (let id = ctx.config.app_uid_min; id <= ctx.config.app_uid_max; id++) if (!taken.has(id)) return id;
  throw new HelperError(
    72,
    `no uid left for a new app in ${ctx.config.app_uid_min}-${ctx.config.app_uid_max} (app_uid_min/app_uid_max in helper.json)`,
  );
}

/** A new app's group and user, with an id no one has or had; the caller holds the id lock. */
async function addUser(ctx: HelperContext, name: string, user: string): Promise<void> {
  if (findUser(user)) return;
  const id = await freeId(ctx);
  await ctx.run(72, 'groupadd', ['--system', '--gid', String(id), user]);
  await ctx.run(72, 'useradd', [
    '--system',
    '--uid',
    String(id),
    '--gid',
    user,
    '--no-create-home',
    '--home-dir',
    APP_HOME,
    '--shell',
    '/usr/sbin/nologin',
    '--comment',
    commentOf(name),
    user,
  ]);
}

export async function ensureAppUser(ctx: HelperContext, name: string): Promise<PasswdEntry> {
  const user = ctx.appUser(name);
  const had = findUser(user);
  if (!had) {
    await withIdLock(ctx, () => addUser(ctx, name, user));
  } else if (had.comment === commentOf(name) && had.home !== APP_HOME) {
    // An app user of an older helper had its own directory as its home: tools read their rc files there.
    await ctx.run(72, 'usermod', ['--home', APP_HOME, user]);
  }
  return appIdentity(ctx, name);
}

/**
 * Ends everything the app runs (its unit, its work units, then every process of
 * its user, checked): after this nothing of the app can change its tree.
 */
export async function endAppProcesses(ctx: HelperContext, name: string): Promise<void> {
  const u = findUser(ctx.appUser(name));
  if (!u || u.comment !== commentOf(name)) return;
  await ctx.run(69, 'systemctl', ['stop', unitName(name), workUnitPattern(name)], { allowFailure: true });
  await endProcessesOf(u.uid, ctx.appUser(name));
}

/**
 * Removes the app's user and group, when they are pocketd's: its processes are
 * ended first (checked), a failed userdel fails the operation, and its uid is
 * retired for good.
 */
export async function removeAppUser(ctx: HelperContext, name: string): Promise<void> {
  const u = findUser(ctx.appUser(name));
  if (!u || u.comment !== commentOf(name)) return;
  await endAppProcesses(ctx, name);
  await withIdLock(ctx, () => retire(ctx, u.uid));
  await ctx.run(72, 'userdel', [ctx.appUser(name)]);
  if (findUser(ctx.appUser(name))) throw new HelperError(72, `user ${ctx.appUser(name)} is still there after userdel`);
}
