import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import yazl from 'yazl';

/**
 * A local stand-in for GitHub's releases of pocketbase/pocketbase: the same API
 * paths and JSON fields, the same asset names, downloads through a redirect, and
 * `checksums.txt` in sha256sum format. Each archive holds the PocketBase stand-in
 * (test/fixtures/pocketbase-standin.cjs) built for one version and behaviour.
 */
export interface MirrorRelease {
  version: string;
  prerelease?: boolean;
  /** What the stand-in does: serve healthily, fail /api/health, or exit at start. */
  behavior?: 'healthy' | 'unhealthy' | 'crash';
  /** Publish a checksum that does not match the amd64/arm64 archives. */
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

export const DEFAULT_RELEASES: MirrorRelease[] = [
  { version: '0.22.0' },
  { version: '0.23.1' },
  { version: '0.24.0-rc.1', prerelease: true },
  { version: '0.21.9', badChecksum: true },
  { version: '0.20.9', behavior: 'unhealthy' },
  { version: '0.19.9', behavior: 'crash' },
];

/** The stand-in executable's text for one version. */
export function standinScript(version: string, behavior: string, sqliteModule: string): string {
  return readFileSync(path.join(projectRoot, 'test', 'fixtures', 'pocketbase-standin.cjs'), 'utf8')
    .replace("'__VERSION__'", JSON.stringify(version))
    .replace("'__BEHAVIOR__'", JSON.stringify(behavior))
    .replace("'__SQLITE_MODULE__'", JSON.stringify(sqliteModule));
}

/** A zip laid out as PocketBase's: the executable at the top, mode 0755, beside its docs. */
export async function buildArchive(script: string): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(script), 'pocketbase', { mode: 0o100755, mtime: new Date('2024-01-01T00:00:00Z') });
  zip.addBuffer(Buffer.from('# Changelog\n'), 'CHANGELOG.md', { mtime: new Date('2024-01-01T00:00:00Z') });
  zip.addBuffer(Buffer.from('The MIT License (MIT)\n'), 'LICENSE.md', { mtime: new Date('2024-01-01T00:00:00Z') });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

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
    for (const arch of ['amd64', 'arm64']) {
      const name = `pocketbase_${r.version}_linux_${arch}.zip`;
      const data = r.garbage
        ? Buffer.from('this is not a zip archive')
        : await buildArchive(standinScript(r.version, r.behavior ?? 'healthy', sqliteModule));
      assets.set(`${r.version}/${name}`, data);
      lines.push(`${r.badChecksum ? sha256(Buffer.from('tampered')) : sha256(data)}  ${name}`);
    }
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
      body: `Release notes for ${r.version}`,
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
