// What the fetchers of pinned test artifacts share (test/pocketbase/fetch.mjs, test/replica/fetch.mjs):
// a file's sha256, a quiet process, an npm tarball checked against its pin, and a Go program built from
// its pinned module through the Go module proxy. Node's own modules only (it runs before the build).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

export const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });

/** A function that prints `<label>: <msg>` and ends the process with 1. */
export const failWith = (label) => (msg) => {
  console.error(`${label}: ${msg}`);
  process.exit(1);
};

/** `npm pack`s `pin.package` into tmp and refuses a tarball whose sha256 is not `pin.sha256`; its path. */
export function npmPack(pin, tmp, fail) {
  run('npm', ['pack', pin.package, '--pack-destination', tmp, '--silent', '--no-audit', '--no-fund'], { cwd: tmp });
  const tgz = run('find', [tmp, '-maxdepth', '1', '-name', '*.tgz']).trim();
  if (!tgz) fail(`npm pack ${pin.package} left no tarball`);
  const got = sha256(tgz);
  if (got !== pin.sha256) fail(`${pin.package}: tarball sha256 ${got}, pinned ${pin.sha256}`);
  return tgz;
}

/**
 * Builds `pin.package` at `pin.ref` with `go install` into tmp, after checking the module's hashes as
 * go.sum writes them (`pin.h1`, `pin.go_mod_h1`); Go's build cache is kept in goCache. Its path.
 */
export function goInstall(pin, tmp, { go, goCache, ldflags, label, fail }) {
  if (!existsSync(go)) fail(`${label} is built from source and needs Go (${go}); set GO= to another go`);
  const env = {
    ...process.env,
    GOCACHE: path.join(goCache, 'build'),
    GOMODCACHE: path.join(goCache, 'mod'),
    GOTOOLCHAIN: 'local',
    GOFLAGS: '-mod=mod',
    CGO_ENABLED: '0',
    GOBIN: tmp,
  };
  // The source pin first: the module zip's hash as go.sum writes it.
  const info = JSON.parse(run(go, ['mod', 'download', '-json', `${pin.module}@${pin.ref}`], { env, cwd: tmp }));
  if (info.Sum !== pin.h1) fail(`${pin.module}@${pin.ref}: module hash ${info.Sum}, pinned ${pin.h1}`);
  if (info.GoModSum !== pin.go_mod_h1)
    fail(`${pin.module}@${pin.ref}: go.mod hash ${info.GoModSum}, pinned ${pin.go_mod_h1}`);
  const started = Date.now();
  run(go, ['install', '-trimpath', '-ldflags', ldflags, `${pin.package}@${pin.ref}`], {
    env,
    cwd: tmp,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  console.log(`${label}: built in ${Math.round((Date.now() - started) / 1000)} s`);
  return path.join(tmp, path.basename(pin.package));
}
