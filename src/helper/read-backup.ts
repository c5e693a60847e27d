import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';

/**
 * Writes one backup's tar to stdout, for the daemon to stream to an admin who downloads it.
 * The file is root's, in root's 0700 backups directory; it is opened without following a
 * link and checked on the descriptor (a regular file) before a byte is read.
 */
export async function readBackup(ctx: HelperContext, name: string, id: string): Promise<void> {
  const file = path.join(ctx.config.backups_dir, name, `${id}.tar`);
  const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
    throw new HelperError(72, err.code === 'ENOENT' ? `backup ${id} of ${name} is missing` : err.message);
  });
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.uid !== 0) throw new HelperError(72, `backup ${id} of ${name} is not root's regular file`);
    await pipeline(fh.createReadStream({ autoClose: false }), process.stdout, { end: false });
  } finally {
    await fh.close();
  }
}
