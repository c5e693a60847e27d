import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';
import { findUser, type PasswdEntry } from './root-files.js';

/**
 * Each app's own system user and group (`appUserOf`), made by the helper at
 * prepare and removed at archive and purge. A user of that name that pocketd
 * did not make (its comment says whose it is) is never used for an app.
 */

const commentOf = (name: string) => `pocketd app ${name}`;

/** The app's user, or a refusal when the name belongs to someone else. */
export function appIdentity(ctx: HelperContext, name: string): PasswdEntry {
  const u = findUser(ctx.appUser(name));
  if (!u) throw new HelperError(72, `app ${name} has no user ${ctx.appUser(name)} (prepare-app makes it)`);
  if (u.comment !== commentOf(name) || u.uid === 0)
    throw new HelperError(72, `user ${ctx.appUser(name)} exists and is not pocketd's for app ${name}`);
  return u;
}

export async function ensureAppUser(ctx: HelperContext, name: string): Promise<PasswdEntry> {
  if (!findUser(ctx.appUser(name))) {
    await ctx.run(72, 'useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      ctx.appDir(name),
      '--shell',
      '/usr/sbin/nologin',
      '--comment',
      commentOf(name),
      ctx.appUser(name),
    ]);
  }
  return appIdentity(ctx, name);
}

/** Removes the app's user and group, when they are pocketd's; its processes are gone with its unit. */
export async function removeAppUser(ctx: HelperContext, name: string): Promise<void> {
  const u = findUser(ctx.appUser(name));
  if (!u || u.comment !== commentOf(name)) return;
  await ctx.run(72, 'userdel', [ctx.appUser(name)], { allowFailure: true });
}
