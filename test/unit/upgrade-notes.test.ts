import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import pino from 'pino';
import { registerUpgradeNotesRoutes } from '../../src/api/routes/upgrade-notes.js';
import { createUpgradeNotes } from '../../src/core/changes/upgrade-notes.js';
import { boundNotes, createReleaseSource, NOTES_MAX } from '../../src/host/releases.js';
import { breakingCrossed, compareVersions } from '../../src/shared/pocketbase/breaking.js';
import { createTestApi, expectEnvelope, type TestApi } from '../support/api.js';
import { mirrorNotes, startReleaseMirror, type ReleaseMirror } from '../support/release-mirror.js';
import { PB_022, PB_LATEST, PB_OLD, PB_PREV } from '../support/pocketbase.js';
import { tempDir } from '../support/tmp.js';

/**
 * Release notes between an app's release and a target (issue #26): read from
 * the release source's list (a real mirror with GitHub's shape), bounded, with
 * the breaking releases crossed named; served by the real API stack.
 */

const versions = (list: Array<{ version: string }>) => list.map((b) => b.version);

test('versions order numerically, a prerelease before its release', () => {
  assert.ok(compareVersions('0.9.0', '0.10.0') < 0);
  assert.ok(compareVersions('0.23.0-rc.1', '0.23.0') < 0);
  assert.ok(compareVersions('1.0.0', '0.99.99') > 0);
  assert.equal(compareVersions('0.22.20', '0.22.20'), 0);
  assert.throws(() => compareVersions('0.22', '0.22.1'), RangeError);
});

test('breaking releases crossed: after the older version up to the newer one, in both directions', () => {
  assert.deepEqual(versions(breakingCrossed('0.22.20', '0.40.6')), ['0.23.0', '0.24.0', '0.28.0', '0.32.0']);
  assert.deepEqual(versions(breakingCrossed('0.40.6', '0.22.20')), ['0.23.0', '0.24.0', '0.28.0', '0.32.0']);
  assert.deepEqual(versions(breakingCrossed('0.22.20', '0.22.27')), []);
  assert.deepEqual(versions(breakingCrossed('0.39.11', '0.40.6')), []);
  assert.deepEqual(versions(breakingCrossed('0.21.5', '0.22.0')), ['0.22.0']);
  // Landing on a breaking release crosses it; starting from one does not.
  assert.deepEqual(versions(breakingCrossed('0.22.34', '0.23.0')), ['0.23.0']);
  assert.deepEqual(versions(breakingCrossed('0.23.0', '0.23.12')), []);
  // A prerelease of a breaking release already breaks.
  assert.deepEqual(versions(breakingCrossed('0.22.34', '0.23.0-rc.14')), ['0.23.0']);
  const big = breakingCrossed('0.22.20', '0.23.0')[0]!;
  assert.match(big.summary, /_superusers/);
  assert.ok(big.changes.some((c) => /`fields` instead of `schema`/.test(c)));
  assert.ok(big.changes.some((c) => /hooks API/.test(c)));
});

test('notes are bounded, with line ends made plain and control characters dropped', () => {
  assert.deepEqual(boundNotes('a\r\nb\x1b[31m\x00c\td'), { notes: 'a\nb[31mc\td', notes_truncated: false });
  assert.deepEqual(boundNotes(null), { notes: '', notes_truncated: false });
  const long = boundNotes('x'.repeat(NOTES_MAX + 5));
  assert.equal(long.notes.length, NOTES_MAX);
  assert.equal(long.notes_truncated, true);
});

let mirror: ReleaseMirror;
let api: TestApi;
let tmp: { dir: string; cleanup: () => void };
const running = new Map([
  ['old', PB_OLD],
  ['new', PB_PREV],
]);
before(async () => {
  mirror = await startReleaseMirror({
    releases: [
      { version: PB_OLD },
      { version: PB_022 },
      { version: PB_PREV },
      { version: PB_LATEST },
      { version: '0.41.0-rc.1', prerelease: true, standin: { behavior: 'healthy', why: 'listed only' } },
    ],
  });
  tmp = tempDir();
  const releases = createReleaseSource({
    baseUrl: mirror.url,
    releasesDir: path.join(tmp.dir, 'releases'),
    cacheSeconds: 60,
    log: pino({ level: 'silent' }),
  });
  const notes = createUpgradeNotes({
    versionOf: async (app) => {
      const v = running.get(app);
      if (!v) throw new Error(`no app ${app}`);
      return v;
    },
    releases,
  });
  api = await createTestApi({ extra: [(a) => registerUpgradeNotesRoutes(a, { notes })] });
});
after(async () => {
  await api.close();
  await mirror.close();
  tmp.cleanup();
});

test('GET upgrade-notes: the releases between, oldest first, with their notes and the breaking ones crossed', async () => {
  const r = await api.call('GET', `/api/apps/old/upgrade-notes?to=${PB_LATEST}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual([r.body.app, r.body.from, r.body.to, r.body.direction], ['old', PB_OLD, PB_LATEST, 'upgrade']);
  assert.deepEqual(versions(r.body.releases), [PB_022, PB_PREV, PB_LATEST]);
  // The source's own text, line ends made plain: the mirror sends \r\n as GitHub does.
  assert.equal(r.body.releases[2].notes, mirrorNotes(PB_LATEST).replace(/\r\n/g, '\n'));
  assert.match(r.body.releases[0].notes, new RegExp(`pocketd-test-marker-${PB_022.replace(/\./g, '\\.')}`));
  assert.equal(r.body.releases[0].notes_truncated, false);
  assert.deepEqual(versions(r.body.breaking), ['0.23.0', '0.24.0', '0.28.0', '0.32.0']);
  assert.equal(r.body.refused, null);
  // Within a line: nothing breaking, one release; the prerelease only when it is the target.
  const near = await api.call('GET', `/api/apps/old/upgrade-notes?to=${PB_022}`);
  assert.deepEqual([versions(near.body.releases), near.body.breaking], [[PB_022], []]);
  const pre = await api.call('GET', '/api/apps/new/upgrade-notes?to=0.41.0-rc.1');
  assert.deepEqual(versions(pre.body.releases), [PB_LATEST, '0.41.0-rc.1']);
});

test('GET upgrade-notes going down: a downgrade, the breaking releases undone, and the refusal across 0.23', async () => {
  const r = await api.call('GET', `/api/apps/new/upgrade-notes?to=${PB_OLD}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.direction, 'downgrade');
  assert.deepEqual(versions(r.body.releases), [PB_022, PB_PREV]);
  assert.deepEqual(versions(r.body.breaking), ['0.23.0', '0.24.0', '0.28.0', '0.32.0']);
  assert.equal(r.body.refused.code, 'DOWNGRADE_UNSUPPORTED');
  assert.match(r.body.refused.message, /cannot read the data .* roll back with the data/);
  const same = await api.call('GET', `/api/apps/old/upgrade-notes?to=${PB_022}`);
  assert.equal(same.body.refused, null);
});

test('GET upgrade-notes refuses what is not a target: 422 naming the field', async () => {
  const cases: Array<[string, string]> = [
    ['to=latest', 'VALIDATION_FAILED'],
    ['to=0.22.20%0Ax', 'VALIDATION_FAILED'],
    ['', 'VALIDATION_FAILED'],
    [`to=${PB_OLD}&x=1`, 'VALIDATION_FAILED'],
    ['to=0.30.1', 'VERSION_NOT_FOUND'],
    [`to=${PB_OLD}`, 'SAME_VERSION'],
  ];
  for (const [q, code] of cases) {
    const r = await api.call('GET', `/api/apps/old/upgrade-notes?${q}`);
    assert.equal(r.status, 422, `${q}: ${JSON.stringify(r.body)}`);
    const e = expectEnvelope(r.body);
    assert.ok(
      e.code === code || e.fields.some((f: { code: string }) => f.code === code),
      `${q}: ${JSON.stringify(r.body)}`,
    );
    const field = q.includes('&x=') ? 'query.x' : 'query.to';
    assert.ok(
      e.fields.some((f: { field: string }) => f.field === field),
      `${q}: ${JSON.stringify(r.body)}`,
    );
  }
  assert.equal((await api.call('GET', `/api/apps/old/upgrade-notes?to=${PB_LATEST}`, { token: null })).status, 401);
});

test('the release source down: 502, not a crash', async () => {
  // A fresh source has no cache to fall back on.
  const cold = createUpgradeNotes({
    versionOf: async () => PB_OLD,
    releases: createReleaseSource({
      baseUrl: mirror.url,
      releasesDir: path.join(tmp.dir, 'cold'),
      cacheSeconds: 60,
      log: pino({ level: 'silent' }),
    }),
  });
  const t = await createTestApi({ extra: [(a) => registerUpgradeNotesRoutes(a, { notes: cold })] });
  mirror.setDown(true);
  try {
    const r = await t.call('GET', `/api/apps/old/upgrade-notes?to=${PB_LATEST}`);
    assert.equal(r.status, 502, JSON.stringify(r.body));
    assert.equal(expectEnvelope(r.body).code, 'RELEASE_SOURCE_UNAVAILABLE');
  } finally {
    mirror.setDown(false);
    await t.close();
  }
});
