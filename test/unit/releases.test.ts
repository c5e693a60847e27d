import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { createReleaseSource } from '../../src/host/releases.js';
import { startReleaseMirror, type ReleaseMirror } from '../support/release-mirror.js';
import { tempDir } from '../support/tmp.js';
import { PB_LATEST, PB_OLD } from '../support/pocketbase.js';
import { exec } from '../../src/shared/exec.js';
import { statusOf } from '../../src/api/errors.js';

let mirror: ReleaseMirror;
let tmp: { dir: string; cleanup: () => void };
before(async () => {
  mirror = await startReleaseMirror({
    releases: [
      { version: PB_OLD },
      { version: PB_LATEST },
      // Stand-ins: a prerelease no pinned executable is, and a bad checksum (that archive is never unpacked).
      { version: '0.41.0-rc.1', prerelease: true, standin: { behavior: 'healthy', why: 'listed only' } },
      { version: '0.21.9', badChecksum: true, standin: { behavior: 'healthy', why: 'never unpacked' } },
      { version: '0.18.0', garbage: true },
    ],
  });
  tmp = tempDir();
});
after(async () => {
  await mirror.close();
  tmp.cleanup();
});

const source = (sub: string, cacheSeconds = 60) =>
  createReleaseSource({
    baseUrl: mirror.url,
    releasesDir: path.join(tmp.dir, sub),
    cacheSeconds,
    log: pino({ level: 'silent' }),
    arch: 'x64',
  });

test('lists releases newest first with latest stable and prerelease flags', async () => {
  const list = await source('a').list();
  assert.deepEqual(list.map((r) => r.version).slice(0, 3), ['0.41.0-rc.1', PB_LATEST, PB_OLD]);
  assert.equal(list.find((r) => r.latest)?.version, PB_LATEST);
  assert.equal(list.find((r) => r.version === '0.41.0-rc.1')?.prerelease, true);
  assert.ok(list.every((r) => r.installed === false));
});

test('the list is cached for its time to live', async () => {
  const s = source('cache', 60);
  const before = mirror.requests.filter((r) => r.endsWith('/releases')).length;
  await s.list();
  await s.list();
  assert.equal(mirror.requests.filter((r) => r.endsWith('/releases')).length, before + 1);
});

test('installs a verified executable once, also when asked twice at once', async () => {
  const s = source('b');
  const [p1, p2] = await Promise.all([s.ensure(PB_OLD), s.ensure(PB_OLD)]);
  assert.equal(p1, p2);
  assert.equal(mirror.downloads(PB_OLD), 1);
  const v = await exec(p1, ['--version']);
  // The real executable, unpacked from the mirror's archive, says its own version.
  assert.equal(v.stdout.trim(), `pocketbase version ${PB_OLD}`);
  assert.equal((await s.list()).find((r) => r.version === PB_OLD)?.installed, true);
  await s.ensure(PB_OLD);
  assert.equal(mirror.downloads(PB_OLD), 1);
});

test('a checksum mismatch is refused and nothing is kept', async () => {
  const s = source('c');
  await assert.rejects(s.ensure('0.21.9'), (e: any) => e.code === 'CHECKSUM_MISMATCH');
  assert.deepEqual(readdirSync(path.join(tmp.dir, 'c')), []);
});

test('a version that does not exist is VERSION_NOT_FOUND; a bad one is refused before any request', async () => {
  const s = source('d');
  await assert.rejects(s.ensure('9.9.9'), (e: any) => e.code === 'VERSION_NOT_FOUND' && statusOf(e.code) === 422);
  const n = mirror.requests.length;
  await assert.rejects(s.ensure('../../etc'), (e: any) => e.code === 'VERSION_INVALID');
  assert.equal(mirror.requests.length, n);
});

test('garbage instead of a zip is refused and nothing is kept', async () => {
  const s = source('e');
  await assert.rejects(s.ensure('0.18.0'), (e: any) => e.code === 'RELEASE_BROKEN');
  assert.equal(existsSync(path.join(tmp.dir, 'e', '0.18.0')), false);
});

test('a source that is down is a 502 RELEASE_SOURCE_UNAVAILABLE', async () => {
  mirror.setDown(true);
  try {
    await assert.rejects(
      source('f', 0).list(),
      (e: any) => e.code === 'RELEASE_SOURCE_UNAVAILABLE' && statusOf(e.code) === 502,
    );
  } finally {
    mirror.setDown(false);
  }
});
