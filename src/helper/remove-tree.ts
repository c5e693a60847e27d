import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';

/**
 * Deletes a tree the descriptor-based way: each directory opened with
 * O_NOFOLLOW|O_DIRECTORY and its entries removed with unlinkat relative to
 * that descriptor, so a link swapped in anywhere is removed as a link, never
 * followed. Node has no openat/unlinkat; Python's shutil.rmtree is built on
 * them on Linux and says so (`rmtree.avoids_symlink_attacks`), which is checked
 * before it runs. Run isolated (-I: no environment, no user site, no current
 * directory on the path) from Debian's own interpreter.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = [
  'import shutil, sys',
  'if not shutil.rmtree.avoids_symlink_attacks: sys.exit(70)',
  'shutil.rmtree(sys.argv[1])',
].join('\n');

/** `p` must lie in a directory only root can change (the archive): its own name is not swapped under it. */
export async function removeTree(ctx: HelperContext, p: string): Promise<void> {
  if (!path.isAbsolute(p) || path.dirname(p) !== ctx.config.archive_dir)
    throw new HelperError(72, `refusing to delete ${p}: not an entry of the archive`);
  const st = await lstat(p).catch(() => null);
  if (!st) return;
  await ctx.run(72, PYTHON, ['-I', '-c', SCRIPT, p], { timeoutMs: 30 * 60_000, cwd: '/' });
}
