import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HelperContext } from './context.js';
import { ensureRootDir } from './root-files.js';
import { HelperError } from './errors.js';

const WAIT_MS = 60_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` while this helper alone holds `file` (in root's state directory): a file made with O_EXCL,
 * holding its owner's pid; a lock whose owner died (a helper killed mid-way) is taken over. Inside one
 * process (the resident helper answers several requests) the holders queue in turn, as processes do.
 */
export async function withRootLock<T>(
  ctx: HelperContext,
  file: string,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  await ensureRootDir(ctx.config.state_dir, 0o700);
  const lock = path.join(ctx.config.state_dir, file);
  const until = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const fh = await open(lock, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      // An empty file is a lock being written this instant: wait for it like any other.
      if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > until) throw new HelperError(72, `another helper holds the lock on ${what} for too long`);
      await sleep(25);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

/**
 * Runs `fn` while this helper alone picks and takes a new uid: two creates at once would
 * otherwise read the same free id from passwd and group, and the second groupadd fails
 * ("GID already exists").
 */
export const withIdLock = <T>(ctx: HelperContext, fn: () => Promise<T>): Promise<T> =>
  withRootLock(ctx, 'new-ids.lock', 'new app users', fn);
