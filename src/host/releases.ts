import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { PocketdError } from '../shared/errors.js';
import { VERSION_PATTERN } from '../shared/rules.js';

export { VERSION_PATTERN };
import type { Logger } from '../shared/log.js';
import { exec } from '../shared/exec.js';
import { singleFlight } from '../shared/single-flight.js';
import {
  ReleaseSchema,
  extractExecutable,
  fetchJson,
  pbArch,
  releaseAsset,
  unavailable,
  type RawRelease,
} from '../shared/release-assets.js';

/** One PocketBase release as pocketd sees it. */
export interface Release {
  version: string;
  prerelease: boolean;
  published_at: string | null;
  installed: boolean;
  latest: boolean;
}

const MAX_ARCHIVE = 256 * 1024 * 1024;

/** One release with its notes, as the upgrade notes are cut from (src/core/changes/upgrade-notes.ts). */
export interface PublishedRelease {
  version: string;
  prerelease: boolean;
  published_at: string | null;
  /** The release's notes as the source wrote them (markdown), at most NOTES_MAX characters. */
  notes: string;
  /** The source's notes were longer and end here. */
  notes_truncated: boolean;
}

/** Characters of one release's notes kept (PocketBase's own are at most about 9,000: 0.23.0's); 100 releases at most are listed. */
export const NOTES_MAX = 20_000;

/** Notes as text: line ends as `\n`, no control characters but newline and tab, bounded. */
export function boundNotes(body: string | null | undefined): { notes: string; notes_truncated: boolean } {
  const text = (body ?? '').replace(/\r\n?/g, '\n').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
  return text.length > NOTES_MAX
    ? { notes: text.slice(0, NOTES_MAX), notes_truncated: true }
    : { notes: text, notes_truncated: false };
}

export interface ReleaseSourceOptions {
  baseUrl: string;
  releasesDir: string;
  cacheSeconds: number;
  log: Logger;
  /** Node's name for the CPU (process.arch); PocketBase names it amd64/arm64. */
  arch?: string;
  fetchTimeoutMs?: number;
  /**
   * Where downloads are checked before they are installed (the daemon's private
   * staging). Defaults to a temporary directory inside `releasesDir`.
   */
  workDir?: string;
  /**
   * Installs a checked archive into `releasesDir`; on a host this is the root
   * helper's install-release, which checks the archive against the source itself.
   * Without it (development, unit tests) the checked executable is moved there.
   */
  installer?: (version: string, zipFile: string) => Promise<void>;
}

/**
 * PocketBase releases from GitHub's API (or any mirror with the same shape):
 * listed with a cache, downloaded once per version, verified against
 * checksums.txt, unpacked atomically into `<releasesDir>/<version>/pocketbase`.
 */
export function createReleaseSource(opts: ReleaseSourceOptions) {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const arch = pbArch(opts.arch);
  const timeout = opts.fetchTimeoutMs ?? 120_000;
  let cache: { at: number; releases: Array<RawRelease & { notes: ReturnType<typeof boundNotes> }> } | null = null;
  const downloads = singleFlight<string>();

  const getJson = (url: string) => fetchJson(base, url);

  async function fetchReleases() {
    if (cache && Date.now() - cache.at < opts.cacheSeconds * 1000) return cache.releases;
    const data = await getJson(`${base}/repos/pocketbase/pocketbase/releases?per_page=100`);
    const parsed = z.array(ReleaseSchema).safeParse(data);
    if (!parsed.success) throw unavailable('the release source sent a release list of an unexpected shape');
    // Only the bounded notes are kept in memory, not the source's whole text.
    const releases = parsed.data
      .filter((r) => !r.draft && VERSION_PATTERN.test(r.tag_name.replace(/^v/, '')))
      .map(({ body, ...r }) => ({ ...r, notes: boundNotes(body) }));
    cache = { at: Date.now(), releases };
    return releases;
  }

  async function installedVersions(): Promise<Set<string>> {
    try {
      const names = await readdir(opts.releasesDir);
      return new Set(names.filter((n) => VERSION_PATTERN.test(n)));
    } catch {
      return new Set();
    }
  }

  /** Every published release, newest first, with `installed` and `latest` (newest stable). */
  async function list(): Promise<Release[]> {
    const [raw, installed] = await Promise.all([fetchReleases(), installedVersions()]);
    const latest = raw.find((r) => !r.prerelease)?.tag_name;
    return raw.map((r) => ({
      version: r.tag_name.replace(/^v/, ''),
      prerelease: r.prerelease,
      published_at: r.published_at ?? null,
      installed: installed.has(r.tag_name.replace(/^v/, '')),
      latest: r.tag_name === latest,
    }));
  }

  /** Every published release with its bounded notes, newest first (the source's order). */
  async function published(): Promise<PublishedRelease[]> {
    return (await fetchReleases()).map((r) => ({
      version: r.tag_name.replace(/^v/, ''),
      prerelease: r.prerelease,
      published_at: r.published_at ?? null,
      ...r.notes,
    }));
  }

  /** Whether a version exists at the source (installed ones count without asking). */
  async function exists(version: string): Promise<boolean> {
    if ((await installedVersions()).has(version)) return true;
    return (await fetchReleases()).some((r) => r.tag_name === `v${version}`);
  }

  const binPath = (version: string) => path.join(opts.releasesDir, version, 'pocketbase');

  async function download(url: string, file: string, max: number): Promise<string> {
    let res: Response;
    try {
      res = await fetch(url, {
        redirect: 'follow',
        headers: { 'user-agent': 'pocketd' },
        signal: AbortSignal.timeout(timeout),
      });
    } catch (err) {
      throw unavailable(`download of ${url} failed: ${(err as Error).message}`, err);
    }
    if (!res.ok || !res.body) throw unavailable(`download of ${url} answered ${res.status}`);
    const hash = createHash('sha256');
    let size = 0;
    const out = createWriteStream(file, { mode: 0o600 });
    await pipeline(
      res.body as unknown as NodeJS.ReadableStream,
      async function* (source) {
        for await (const chunk of source as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > max) throw unavailable(`${url} is larger than ${max} bytes`);
          hash.update(chunk);
          yield chunk;
        }
      },
      out,
    );
    return hash.digest('hex');
  }

  async function install(version: string): Promise<string> {
    const { assetName, url, expected } = await releaseAsset(base, version, arch);
    const work = path.join(opts.workDir ?? opts.releasesDir, `.release-${version}-${randomBytes(4).toString('hex')}`);
    await mkdir(work, { recursive: true, mode: opts.workDir ? 0o700 : 0o755 });
    try {
      const zipFile = path.join(work, assetName);
      const actual = await download(url, zipFile, MAX_ARCHIVE);
      if (actual !== expected) {
        throw new PocketdError(
          'CHECKSUM_MISMATCH',
          `${assetName} does not match checksums.txt (expected ${expected.slice(0, 12)}…, got ${actual.slice(0, 12)}…); nothing was kept`,
        );
      }
      const bin = path.join(work, 'pocketbase');
      await extractExecutable(zipFile, bin);
      await chmod(bin, 0o755);
      // Run as the daemon's user, never as root: an executable that cannot say its version is not installed.
      const v = await exec(bin, ['--version'], { timeoutMs: 15_000, allowFailure: true });
      if (v.code !== 0 || !v.stdout.includes(version)) {
        throw new PocketdError(
          'RELEASE_BROKEN',
          `the ${version} executable does not report its version (${(v.stdout || v.stderr).trim().slice(0, 200)})`,
        );
      }
      if (opts.installer) {
        await opts.installer(version, zipFile);
        await rm(work, { recursive: true, force: true });
      } else {
        await rm(zipFile);
        await writeFile(path.join(work, 'SHA256'), `${expected}  ${assetName}\n`);
        // Atomic: a version directory either holds a verified executable or does not exist.
        await rename(work, path.join(opts.releasesDir, version));
      }
      opts.log.info({ version }, 'release installed');
      return binPath(version);
    } catch (err) {
      await rm(work, { recursive: true, force: true });
      if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST')
        return binPath(version);
      if (err instanceof PocketdError) throw err;
      throw new PocketdError(
        'RELEASE_INSTALL_FAILED',
        `installing PocketBase ${version} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** The path of a verified executable for `version`, downloading it once however many ask at once. */
  function ensure(version: string): Promise<string> {
    if (!VERSION_PATTERN.test(version)) {
      return Promise.reject(new PocketdError('VERSION_INVALID', `'${version}' is not a version`));
    }
    // Registered before the first await, so concurrent callers share one download.
    return downloads(version, async () => {
      try {
        if ((await stat(binPath(version))).isFile()) return binPath(version);
      } catch {
        /* not installed yet */
      }
      if (!opts.installer) await mkdir(opts.releasesDir, { recursive: true, mode: 0o755 });
      return install(version);
    });
  }

  return { list, published, exists, ensure, binPath };
}

export type ReleaseSource = ReturnType<typeof createReleaseSource>;
