import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

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

/** Writes a file under a temporary name in the same directory, then renames it. */
export async function writeAtomic(file: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content, { mode, flag: 'wx' });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The daemon's staging directory, from which the helper copies files into place. */
export function createStaging(dir: string) {
  return {
    dir,
    async put(name: string, content: string, mode = 0o644): Promise<void> {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeAtomic(path.join(dir, name), content, mode);
    },
    async remove(name: string): Promise<void> {
      await rm(path.join(dir, name), { force: true });
    },
  };
}

export type Staging = ReturnType<typeof createStaging>;
