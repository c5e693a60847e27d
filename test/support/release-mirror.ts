import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import yazl from 'yazl';

import { pocketbaseBinary, pocketbaseBytes, PB_022, PB_LATEST, PB_OLD, PB_PREV } from './pocketbase.js';

/**
 * A local stand-in for GitHub's releases of pocketbase/pocketbase: the same API
 * paths and JSON fields, the same asset names, downloads through a redirect, and
 * `checksums.txt` in sha256sum format. Each archive is laid out as PocketBase's
 * own release zip and holds the real PocketBase executable of that version
 * (pinned in test/pocketbase/versions.json, cached by test/setup.sh). Only a
 * release that must behave in a way no real executable can be made to on demand
 * holds the stand-in (test/fixtures/pocketbase-standin.cjs), and says why.
 */
export interface MirrorRelease {
  version: string;
  prerelease?: boolean;
  /**
   * The stand-in instead of the real executable, for behaviour a real PocketBase
   * cannot be made to show on demand: `unhealthy` (/api/health answers 500 from its
   * first request), `crash` (exits 1 at start), `healthy` (a version no pinned
   * executable has, e.g. a prerelease). `why` says which test needs it.
   */
  standin?: { behavior: 'healthy' | 'unhealthy' | 'crash'; why: string };
  /** Publish a checksum that does not match the amd64 archive. */
  badChecksum?: boolean;
  /** Serve garbage instead of a zip. */
  garbage?: boolean;
}

export interface ReleaseMirror {
  /** Base URL to give pocketd as POCKETD_RELEASES_URL. */
  url: string;
  port: number;
  /** Requests seen, e.g. to count downloads. */
  requests: string[];
  downloads(version: string): number;
  /** Answer every request with 503 while true. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

const projectRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const require = createRequire(import.meta.url);

/**
 * Versions whose archive holds the stand-in (DEFAULT_RELEASES says why), by what they show. They sit in the
 * 0.23+ line, where an app on a real 0.23+ release may go (pocketd refuses a way back to 0.22), at numbers
 * PocketBase never published (0.29 ended at 0.29.3).
 */
export const STANDIN = {
  /** Listed as a prerelease; no pinned executable is one. */
  prerelease: '0.41.0-rc.1',
  /** Its published checksum does not match its archive. */
  badChecksum: '0.29.97',
  /** Serves, but /api/health answers 500. */
  unhealthy: '0.29.98',
  /** Exits 1 at start. */
  crash: '0.29.99',
} as const;

/** Real PocketBase releases, and the releases only a stand-in can be. */
export const DEFAULT_RELEASES: MirrorRelease[] = [
  { version: PB_OLD },
  { version: PB_022 },
  { version: PB_PREV },
  { version: PB_LATEST },
  {
    version: STANDIN.prerelease,
    prerelease: true,
    standin: { behavior: 'healthy', why: 'no PocketBase prerelease is pinned; tests list it and refuse it offline' },
  },
  {
    version: STANDIN.badChecksum,
    badChecksum: true,
    standin: { behavior: 'healthy', why: 'a published checksum that does not match: the archive is never unpacked' },
  },
  {
    version: STANDIN.unhealthy,
    standin: { behavior: 'unhealthy', why: 'a real PocketBase answers /api/health 200 whenever it serves' },
  },
  {
    version: STANDIN.crash,
    standin: { behavior: 'crash', why: 'a real PocketBase starts on an empty data directory' },
  },
];

/** The stand-in executable's text for one version. */
export function standinScript(version: string, behavior: string, sqliteModule: string): string {
  return readFileSync(path.join(projectRoot, 'test', 'fixtures', 'pocketbase-standin.cjs'), 'utf8')
    .replace("'__VERSION__'", JSON.stringify(version))
    .replace("'__BEHAVIOR__'", JSON.stringify(behavior))
    .replace("'__SQLITE_MODULE__'", JSON.stringify(sqliteModule));
}

/**
 * A release's notes as the mirror serves them: markdown shaped like PocketBase's own (a heading, a list of
 * changes), written for these tests and saying so, never copied from PocketBase's changelog.
 */
export function mirrorNotes(version: string): string {
  const [major, minor] = version.split('.').map(Number);
  const line = major === 0 && minor! < 23 ? 'the 0.22 line (admins, `schema`, echo hooks)' : 'the 0.23+ line';
  return [
    `## v${version} (test note)`,
    '',
    `> This is a test note written for pocketd's release mirror; it is not PocketBase's changelog.`,
    '',
    `- Test change in ${version}: fixes and updated dependencies of ${line}.`,
    `- pocketd-test-marker-${version}`,
    '',
  ].join('\r\n');
}

const MTIME = new Date('2024-01-01T00:00:00Z');

/** A zip laid out as PocketBase's: the executable at the top, mode 0755, beside its docs. */
export async function buildArchive(executable: string | Buffer): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const bin = typeof executable === 'string' ? Buffer.from(executable) : executable;
  zip.addBuffer(bin, 'pocketbase', { mode: 0o100755, mtime: MTIME });
  zip.addBuffer(Buffer.from('# Changelog\n'), 'CHANGELOG.md', { mtime: MTIME });
  zip.addBuffer(Buffer.from('The MIT License (MIT)\n'), 'LICENSE.md', { mtime: MTIME });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

// Deflating a 30-50 MB executable takes seconds and every test file starts a
// mirror: each real release's archive is made once, beside its executable in the
// cache (setup replaces that directory whenever the executable changes), and the
// bytes are the same each time (fixed mtimes).
const realArchives = new Map<string, Promise<Buffer>>();
const realArchive = (version: string) => {
  let p = realArchives.get(version);
  if (!p) {
    p = (async () => {
      const file = path.join(path.dirname(pocketbaseBinary(version)), `pocketbase_${version}_linux_amd64.zip`);
      if (existsSync(file)) return readFileSync(file);
      const data = await buildArchive(pocketbaseBytes(version));
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, data);
      renameSync(tmp, file);
      return data;
    })();
    realArchives.set(version, p);
  }
  return p;
};

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Starts the mirror on loopback. `sqliteModule` is where the stand-in finds
 * better-sqlite3 when it runs (inside the sandbox: under its mount of the project).
 */
export async function startReleaseMirror(
  opts: { releases?: MirrorRelease[]; sqliteModule?: string } = {},
): Promise<ReleaseMirror> {
  const releases = opts.releases ?? DEFAULT_RELEASES;
  const sqliteModule = opts.sqliteModule ?? path.dirname(require.resolve('better-sqlite3/package.json'));
  const assets = new Map<string, Buffer>();
  const checksums = new Map<string, string>();
  for (const r of releases) {
    const lines: string[] = [];
    // PocketBase publishes linux_amd64 (what pocketd fetches here) among others; a
    // darwin asset stays in each list so that picking the right one is tested.
    const name = `pocketbase_${r.version}_linux_amd64.zip`;
    const data = r.garbage
      ? Buffer.from('this is not a zip archive')
      : r.standin
        ? await buildArchive(standinScript(r.version, r.standin.behavior, sqliteModule))
        : await realArchive(r.version);
    assets.set(`${r.version}/${name}`, data);
    lines.push(`${r.badChecksum ? sha256(Buffer.from('tampered')) : sha256(data)}  ${name}`);
    const darwin = `pocketbase_${r.version}_darwin_amd64.zip`;
    assets.set(`${r.version}/${darwin}`, Buffer.from('not for linux'));
    lines.push(`${sha256(Buffer.from('not for linux'))}  ${darwin}`);
    checksums.set(r.version, `${lines.sort().join('\n')}\n`);
  }

  const requests: string[] = [];
  let down = false;
  let base = '';
  const created = (i: number) => new Date(Date.UTC(2024, 0, 1 + i)).toISOString().replace('.000Z', 'Z');
  // GitHub lists newest first; the order of DEFAULT_RELEASES is not the publication order.
  const ordered = [...releases].sort((a, b) => cmpVersion(b.version, a.version));
  const releaseJson = (r: MirrorRelease) => {
    const idx = releases.indexOf(r);
    const names = [...assets.keys()]
      .filter((k) => k.startsWith(`${r.version}/`))
      .map((k) => k.slice(r.version.length + 1));
    names.push('checksums.txt');
    return {
      url: `${base}/repos/pocketbase/pocketbase/releases/${1000 + idx}`,
      html_url: `${base}/pocketbase/pocketbase/releases/tag/v${r.version}`,
      id: 1000 + idx,
      tag_name: `v${r.version}`,
      target_commitish: 'master',
      name: `v${r.version}`,
      draft: false,
      prerelease: r.prerelease ?? false,
      created_at: created(idx),
      published_at: created(idx),
      body: mirrorNotes(r.version),
      assets: names.sort().map((n, j) => ({
        id: 5000 + idx * 10 + j,
        name: n,
        label: '',
        content_type: n.endsWith('.zip') ? 'application/zip' : 'text/plain',
        state: 'uploaded',
        size:
          n === 'checksums.txt'
            ? Buffer.byteLength(checksums.get(r.version)!)
            : assets.get(`${r.version}/${n}`)!.length,
        browser_download_url: `${base}/pocketbase/pocketbase/releases/download/v${r.version}/${n}`,
      })),
    };
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(url.pathname);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (down) return json(503, { message: 'Service Unavailable' });
    const p = url.pathname;
    if (p === '/repos/pocketbase/pocketbase/releases') return json(200, ordered.map(releaseJson));
    if (p === '/repos/pocketbase/pocketbase/releases/latest') {
      const latest = ordered.find((r) => !r.prerelease);
      return latest ? json(200, releaseJson(latest)) : json(404, { message: 'Not Found' });
    }
    let m = /^\/repos\/pocketbase\/pocketbase\/releases\/tags\/v(.+)$/.exec(p);
    if (m) {
      const r = releases.find((x) => x.version === m![1]);
      return r ? json(200, releaseJson(r)) : json(404, { message: 'Not Found' });
    }
    // Downloads redirect to an object store, as GitHub's do.
    m = /^\/pocketbase\/pocketbase\/releases\/download\/v([^/]+)\/([^/]+)$/.exec(p);
    if (m) {
      res.writeHead(302, { location: `${base}/objects/${m[1]}/${m[2]}` });
      return res.end();
    }
    m = /^\/objects\/([^/]+)\/([^/]+)$/.exec(p);
    if (m) {
      const body = m[2] === 'checksums.txt' ? checksums.get(m[1]!) : assets.get(`${m[1]}/${m[2]}`);
      if (body === undefined) return json(404, { message: 'Not Found' });
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(body) });
      return res.end(body);
    }
    return json(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    port,
    requests,
    downloads: (version) => requests.filter((r) => r.startsWith(`/objects/${version}/`) && r.endsWith('.zip')).length,
    setDown: (d) => {
      down = d;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function cmpVersion(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return 1;
    if (y === undefined) return -1;
    const nx = Number(x);
    const ny = Number(y);
    if (!Number.isNaN(nx) && !Number.isNaN(ny) && nx !== ny) return nx - ny;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
