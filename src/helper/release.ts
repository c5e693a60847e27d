import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extractExecutable, pbArch, releaseAsset } from '../shared/release-assets.js';
import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';
import { ensureRootDir } from './root-files.js';

const MAX_ARCHIVE = 256 * 1024 * 1024;

/**
 * stdin: a release archive. Installed into the root-owned releases directory
 * only when its sha256 matches the checksums.txt the helper fetched itself from
 * its own configured source; root never runs it.
 */
export async function installRelease(ctx: HelperContext, version: string): Promise<void> {
  const dir = ctx.config.releases_dir;
  const final = path.join(dir, version);
  if (await lstat(path.join(final, 'pocketbase')).catch(() => null)) return;
  await ensureRootDir(dir, 0o755);
  const work = path.join(dir, `.tmp-${version}-${randomBytes(6).toString('hex')}`);
  await mkdir(work, { mode: 0o700 });
  try {
    const zip = path.join(work, 'archive.zip');
    const hash = createHash('sha256');
    let size = 0;
    await pipeline(
      process.stdin,
      async function* (src) {
        for await (const chunk of src as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > MAX_ARCHIVE) throw new HelperError(66, `the archive is larger than ${MAX_ARCHIVE} bytes`);
          hash.update(chunk);
          yield chunk;
        }
      },
      createWriteStream(zip, { flags: 'wx', mode: 0o600 }),
    );
    const actual = hash.digest('hex');
    let expected: { assetName: string; expected: string };
    try {
      expected = await releaseAsset(ctx.config.releases_url, version, pbArch());
    } catch (err) {
      throw new HelperError(75, `cannot check PocketBase ${version} against its source: ${(err as Error).message}`);
    }
    if (actual !== expected.expected) {
      throw new HelperError(
        75,
        `the archive for ${version} does not match ${expected.assetName} in checksums.txt (got ${actual.slice(0, 12)}…)`,
      );
    }
    const bin = path.join(work, 'pocketbase');
    await extractExecutable(zip, bin).catch((err: Error) => {
      throw new HelperError(75, err.message);
    });
    await rm(zip);
    await chmod(bin, 0o755);
    await writeFile(path.join(work, 'SHA256'), `${actual}  ${expected.assetName}\n`, { mode: 0o644 });
    await chmod(work, 0o755);
    await rename(work, final).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
