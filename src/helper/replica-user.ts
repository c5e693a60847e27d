import { replicaUserOf } from '../shared/replica-templates.js';
import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';
import { endProcessesOf } from './processes.js';
import { findUser, type PasswdEntry } from './root-files.js';

/**
 * Each app's replica runs as a system user of its own (`pr-<name>`), never the
 * app's: its group is its own, and its units run with the app's group as their
 * primary group (Group=) so it can read and write the app's databases and what
 * it makes beside them (a -wal, a -shm) is the app's group's. Made at
 * replica-install, removed at replica-remove; a user of that name pocketd did
 * not make is never used.
 */
const commentOf = (name: string) => `pocketd replica ${name}`;

export async function ensureReplicaUser(ctx: HelperContext, name: string): Promise<PasswdEntry> {
  const user = replicaUserOf(name);
  if (!findUser(user))
    await ctx.run(72, 'useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      '--comment',
      commentOf(name),
      user,
    ]);
  const u = findUser(user);
  if (!u || u.comment !== commentOf(name) || u.uid === 0)
    throw new HelperError(72, `user ${user} exists and is not pocketd's replica user for app ${name}`);
  return u;
}

/** Removes the replica's user once its processes are gone (checked); nothing when pocketd did not make it. */
export async function removeReplicaUser(ctx: HelperContext, name: string): Promise<void> {
  const user = replicaUserOf(name);
  const u = findUser(user);
  if (!u || u.comment !== commentOf(name) || u.uid === 0) return;
  await endProcessesOf(u.uid, user);
  await ctx.run(72, 'userdel', [user]);
}
