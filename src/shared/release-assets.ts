import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type yauzl from 'yauzl';
import { z } from 'zod';
import { PocketdError } from './errors.js';

/**
 * What the daemon and the root helper share about a PocketBase release at its
 * source: the shape of the source's answers, the archive for this CPU with the
 * sha256 its checksums.txt gives, and the executable taken out of the archive.
 * The helper asks the source itself before it installs what the daemon sends.
 */
const AssetSchema = z.object({ name: z.string(), browser_download_url: z.url(), size: z.number().optional() });
export const ReleaseSchema = z.object({
  tag_name: z.string(),
  draft: z.boolean().default(false),
  prerelease: z.boolean().default(false),
  published_at: z.string().nullable().optional(),
  /** The release notes (markdown); bounded where they are kept (src/host/releases.ts). */
  body: z.string().nullable().optional(),
  assets: z.array(AssetSchema).default([]),
});
export type RawRelease = z.infer<typeof ReleaseSchema>;

const MAX_BINARY = 512 * 1024 * 1024;

export const unavailable = (message: string, cause?: unknown) =>
  new PocketdError('RELEASE_SOURCE_UNAVAILABLE', message, { cause });

/** PocketBase's name for a CPU (Node's process.arch names). */
export const pbArch = (nodeArch: string = process.arch): string =>
  (({ x64: 'amd64', arm64: 'arm64', arm: 'armv7', ppc64: 'ppc64le', s390x: 's390x' }) as Record<string, string>)[
    nodeArch
  ] ?? 'amd64';

export async function fetchJson(base: string, url: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/vnd.github+json', 'user-agent': 'pocketd' },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw unavailable(`the release source ${base} cannot be reached: ${(err as Error).message}`, err);
  }
  if (res.status === 404) return null;
  if (!res.ok) throw unavailable(`the release source answered ${res.status} for ${url}`);
  try {
    return await res.json();
  } catch (err) {
    throw unavailable(`the release source sent something that is not JSON for ${url}`, err);
  }
}

async function fetchText(url: string): Promise<string> {
  try {
    const res = await fetch(url, {
      redirect: 'follow',
      headers: { 'user-agent': 'pocketd' },
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`answered ${res.status}`);
    return await res.text();
  } catch (err) {
    throw unavailable(`download of ${url} failed: ${(err as Error).message}`, err);
  }
}

/**
 * A release's archive for this CPU and the sha256 its checksums.txt gives for it,
 * asked of the source at `base`. The daemon checks its download against it, and
 * the root helper asks the source itself before it installs what the daemon sends.
 */
export async function releaseAsset(
  base: string,
  version: string,
  arch: string,
): Promise<{ assetName: string; url: string; expected: string }> {
  base = base.replace(/\/+$/, '');
  const tag = await fetchJson(base, `${base}/repos/pocketbase/pocketbase/releases/tags/v${version}`);
  if (tag === null)
    throw new PocketdError('VERSION_NOT_FOUND', `PocketBase ${version} does not exist at the release source`);
  const parsed = ReleaseSchema.safeParse(tag);
  if (!parsed.success) throw unavailable(`the release source sent release ${version} in an unexpected shape`);
  const assetName = `pocketbase_${version}_linux_${arch}.zip`;
  const asset = parsed.data.assets.find((a) => a.name === assetName);
  const sums = parsed.data.assets.find((a) => a.name === 'checksums.txt');
  if (!asset) throw new PocketdError('VERSION_NOT_FOUND', `PocketBase ${version} has no ${assetName}`);
  if (!sums)
    throw new PocketdError(
      'CHECKSUM_MISSING',
      `PocketBase ${version} publishes no checksums.txt; refusing to install it`,
    );
  const expected = (await fetchText(sums.browser_download_url))
    .split('\n')
    .map((l) => l.trim().split(/\s+\*?/))
    .find(([, name]) => name === assetName)?.[0];
  if (!expected || !/^[a-f0-9]{64}$/.test(expected)) {
    throw new PocketdError('CHECKSUM_MISSING', `checksums.txt of ${version} has no entry for ${assetName}`);
  }
  return { assetName, url: asset.browser_download_url, expected };
}

/** Writes the archive's top-level `pocketbase` entry to `dest`, refusing anything odd. */
export async function extractExecutable(zipFile: string, dest: string): Promise<void> {
  // Loaded with the first release unpacked, not with the daemon.
  const { default: zipReader } = await import('yauzl');
  return new Promise((resolve, reject) => {
    zipReader.open(zipFile, { lazyEntries: true, strictFileNames: true }, (err, zip) => {
      if (err || !zip)
        return reject(
          new PocketdError('RELEASE_BROKEN', `the archive is not a valid zip: ${err?.message ?? 'unknown'}`),
        );
      let found = false;
      zip.on('error', (e: Error) => reject(new PocketdError('RELEASE_BROKEN', `the archive is broken: ${e.message}`)));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName !== 'pocketbase') return zip.readEntry();
        if (entry.uncompressedSize > MAX_BINARY)
          return reject(new PocketdError('RELEASE_BROKEN', 'the executable in the archive is too large'));
        found = true;
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('no stream'));
          pipeline(stream, createWriteStream(dest, { mode: 0o755 })).then(() => {
            zip.close();
            resolve();
          }, reject);
        });
      });
      zip.on('end', () => {
        if (!found) reject(new PocketdError('RELEASE_BROKEN', 'the archive holds no pocketbase executable'));
      });
      zip.readEntry();
    });
  });
}
