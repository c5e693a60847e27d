import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A file's text, or null when it does not exist. */
export async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
