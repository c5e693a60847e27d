import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fullApi, type FullApi } from '../support/full-api.js';
import { tempDir } from '../support/tmp.js';
import { buildZip } from '../support/zip.js';

/** The operator's command line against the API in-process (a real store, the fake host): what each command prints. */
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
let t: FullApi;
let dir = '';
let cleanup = () => undefined as void;
before(async () => {
  t = await fullApi({ portRange: '41200-41249' });
  ({ dir, cleanup } = tempDir());
});
after(async () => {
  await t.close();
  cleanup();
});

const cli = (args: string[], token?: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, 'bin', 'pocketd.js'), ...args],
      { env: { PATH: process.env.PATH ?? '', POCKETD_URL: t.url, POCKETD_TOKEN: token ?? t.adminToken } },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

test('apps create follows its steps; list, show and --json read what the API says', async () => {
  const c = await cli(['apps', 'create', 'shop', '--domain', 'shop.test', '--version', '0.22.1']);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /wait_health\s+success/);
  assert.match(c.stdout, /create #\d+ of shop succeeded/);
  const list = await cli(['apps', 'list']);
  assert.match(list.stdout, /^NAME\s+STATE\s+VERSION/);
  assert.match(list.stdout, /\nshop\s+running\s+0\.22\.1\s+-\s+\d+\s+shop\.test/);
  const json = JSON.parse((await cli(['apps', 'list', '--json'])).stdout);
  assert.deepEqual(
    json.apps.map((a: any) => [a.name, a.state]),
    [['shop', 'running']],
  );
  const show = JSON.parse((await cli(['apps', 'show', 'shop', '--json'])).stdout);
  assert.equal(show.version, '0.22.1');
  assert.equal(typeof show.health.state, 'string');
  assert.equal((await cli(['logs', 'shop', '--json'])).code, 0);
});

test('deploy <app> <zip> prints its steps and where the app ended; a failed one exits 1 with the reason and the undos', async () => {
  const zip = path.join(dir, 'b.zip');
  writeFileSync(zip, buildZip([{ name: 'pb_public/index.html', data: '<p>x</p>' }]));
  const ok = await cli(['deploy', 'shop', zip, '--notes', 'abc123']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^bundle 1: 1 files/);
  assert.match(ok.stdout, /install_bundle\s+success/);
  assert.match(ok.stdout, /shop now runs PocketBase 0\.22\.1 with bundle 1: healthy\n$/);
  t.env.helper.failOn('install-bundle', 'the disk is full', 'shop');
  const bad = await cli(['deploy', 'shop', zip]);
  t.env.helper.clearFailures();
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /deploy #\d+ of shop rolled_back: step install_bundle failed: the disk is full/);
  assert.match(
    bad.stderr,
    /where the app is now: shop was rolled back and runs PocketBase 0\.22\.1 with bundle 1: healthy/,
  );
  assert.match(bad.stderr, /undo of snapshot: undone/);
  assert.match(bad.stderr, /undo of stop: undone/);
});

test('upgrade refuses a downgrade unless asked; a deploy token is refused the version with the scope it needs', async () => {
  const down = await cli(['upgrade', 'shop', '0.22.0']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /422 VALIDATION_FAILED: .*older than 0\.22\.1.*version:/);
  const ci = (await t.auth.createApiToken('ci', 'app:shop:deploy', 1, null)).token;
  const seat = await cli(['upgrade', 'shop', '0.22.0', '--allow-downgrade'], ci);
  assert.equal(seat.code, 1);
  assert.match(seat.stderr, /403 FORBIDDEN: .*needs app:shop:manage/);
  const asked = await cli(['upgrade', 'shop', '0.22.0', '--allow-downgrade', '--no-trial']);
  assert.equal(asked.code, 0, asked.stderr);
  assert.match(asked.stdout, /validate\s+success\s+PocketBase 0\.22\.1 -> 0\.22\.0 \(a DOWNGRADE/);
});

test('tokens through the API: list, create (a taken name refused), revoke', async () => {
  const made = await cli(['tokens', 'create', '--name', 'reader', '--scope', 'app:shop:read']);
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /^pkd_[A-Za-z0-9_-]{43}\n$/);
  const again = await cli(['tokens', 'create', '--name', 'reader', '--scope', 'admin']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /NAME_TAKEN|name: a token named reader exists/);
  const none = await cli(['tokens', 'create', '--name', 'x', '--scope', 'app:nosuch:deploy']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /scope: there is no app named nosuch/);
  const list = JSON.parse((await cli(['tokens', 'list', '--json'])).stdout).tokens as any[];
  const reader = list.find((x) => x.name === 'reader');
  assert.equal((await cli(['tokens', 'revoke', String(reader.id)])).code, 0);
  assert.equal((await cli(['logs', 'shop'], made.stdout.trim())).code, 1);
});

test('stop and start answer with the state; backups list; delete needs --yes; bad input exits 2', async () => {
  const stop = await cli(['apps', 'stop', 'shop']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stdout, /^shop: stopped/);
  assert.match((await cli(['apps', 'start', 'shop'])).stdout, /^shop: running, pid \d+/);
  assert.equal((await cli(['backups', 'list', 'shop'])).code, 0);
  const del = await cli(['apps', 'delete', 'shop']);
  assert.equal(del.code, 2);
  assert.match(del.stderr, /add --yes/);
  for (const args of [
    ['apps', 'show'],
    ['apps', 'show', 'Bad_Name'],
    ['logs', 'shop', '--lines', 'x'],
    ['apps', 'frob'],
  ]) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  const gone = await cli(['apps', 'show', 'nosuch']);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /404 NOT_FOUND/);
});
