import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildZip } from '../support/zip.js';
import { fullApi, type FullApi } from '../support/full-api.js';
import { scopeCovers, scopeTableMarkdown } from '../../src/contract/scopes.js';
import { compareVersions } from '../../src/core/changes/version-order.js';

/** Scopes from the seat of a deploy token (issue #31): it deploys and reads; the version, env and settings need manage. */
let t: FullApi;
let deployToken = '';
let manageToken = '';
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

before(async () => {
  t = await fullApi({ portRange: '41150-41199' });
  const r = await t.call('POST', '/api/apps', { name: 'shop', pocketbase_version: '0.22.1' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal((await t.env.deps.deployments.wait(r.body.deployment_id)).status, 'success');
  deployToken = (await t.auth.createApiToken('ci-shop', 'app:shop:deploy', 1, null)).token;
  manageToken = (await t.auth.createApiToken('owner-shop', 'app:shop:manage', 1, null)).token;
});
after(async () => {
  await t.close();
});

test('a deploy token cannot change the PocketBase version (down or up), env, settings, backups or the process', async () => {
  const refused: Array<[string, string, unknown]> = [
    ['POST', '/api/apps/shop/upgrade', { version: '0.22.0', allow_downgrade: true }],
    ['POST', '/api/apps/shop/upgrade', { version: '0.22.1' }],
    ['POST', '/api/apps/shop/rollback', { deployment_id: 1 }],
    ['PATCH', '/api/apps/shop', { memory_max: '1G' }],
    ['GET', '/api/apps/shop/env', undefined],
    ['PUT', '/api/apps/shop/env', { env: { A: 'b' } }],
    ['POST', '/api/apps/shop/backups', undefined],
    ['POST', '/api/apps/shop/stop', undefined],
    ['PUT', '/api/apps/shop/superuser', { email: 'a@b.cc', password: 'long-enough-1' }],
  ];
  for (const [method, p, body] of refused) {
    const r = await t.call(method, p, body, deployToken);
    assert.equal(r.status, 403, `${method} ${p}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error.message, /it needs app:shop:manage/);
  }
  assert.equal((await t.env.db.selectFrom('apps').select('version').executeTakeFirstOrThrow()).version, '0.22.1');
});

test('a deploy token does what CI needs: upload, deploy, read the app, its deployments and logs', async () => {
  const form = new FormData();
  const zip = buildZip([{ name: 'pb_public/index.html', data: '<p>ci</p>' }]);
  form.set('file', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), 'b.zip');
  const up = await fetch(`${t.url}/api/apps/shop/bundles`, {
    method: 'POST',
    headers: { authorization: `Bearer ${deployToken}` },
    body: form,
  });
  assert.equal(up.status, 201);
  const n = ((await up.json()) as { number: number }).number;
  const d = await t.call('POST', '/api/apps/shop/deploy', { bundle: n }, deployToken);
  assert.equal(d.status, 202, JSON.stringify(d.body));
  const done = await t.env.deps.deployments.wait(d.body.deployment_id);
  assert.equal(done.status, 'success');
  // Where the app ended, for CI to print.
  assert.deepEqual(
    { ...done.outcome, summary: undefined },
    { release: '0.22.1', bundle: n, running: true, healthy: true, summary: undefined },
  );
  assert.match(done.outcome!.summary, /^shop now runs PocketBase 0\.22\.1 with bundle \d+: healthy$/);
  for (const p of [
    '/api/apps/shop',
    '/api/deployments?app=shop',
    `/api/deployments/${d.body.deployment_id}`,
    '/api/apps/shop/logs',
  ]) {
    assert.equal((await t.call('GET', p, undefined, deployToken)).status, 200, p);
  }
  // Not another app's, not the host's.
  assert.equal((await t.call('GET', '/api/apps', undefined, deployToken)).status, 403);
  assert.equal((await t.call('GET', '/api/tokens', undefined, deployToken)).status, 403);
});

test('manage changes the version, and a downgrade only when asked for; admin alike', async () => {
  const down = await t.call('POST', '/api/apps/shop/upgrade', { version: '0.22.0' }, manageToken);
  assert.equal(down.status, 422, JSON.stringify(down.body));
  assert.deepEqual(
    down.body.error.fields.map((f: any) => [f.field, f.code]),
    [['version', 'DOWNGRADE']],
  );
  assert.match(down.body.error.message, /older than 0\.22\.1.*allow_downgrade: true/);
  const asked = await t.call(
    'POST',
    '/api/apps/shop/upgrade',
    { version: '0.22.0', allow_downgrade: true },
    manageToken,
  );
  assert.equal(asked.status, 202, JSON.stringify(asked.body));
  const d = await t.env.deps.deployments.wait(asked.body.deployment_id);
  assert.equal(d.status, 'success', d.error ?? '');
  assert.match(d.steps.find((s) => s.name === 'validate')!.message ?? '', /0\.22\.1 -> 0\.22\.0 \(a DOWNGRADE/);
  assert.equal((await t.call('GET', '/api/apps/shop/env', undefined, manageToken)).status, 200);
});

test('tokens of unknown apps and duplicate names are refused with the field named', async () => {
  const none = await t.call('POST', '/api/tokens', { name: 'x', scope: 'app:nosuch:deploy' });
  assert.equal(none.status, 422);
  assert.deepEqual([none.body.error.fields[0].field, none.body.error.fields[0].code], ['scope', 'UNKNOWN_APP']);
  const dup = await t.call('POST', '/api/tokens', { name: 'ci-shop', scope: 'app:shop:read' });
  assert.equal(dup.status, 422);
  assert.deepEqual([dup.body.error.fields[0].field, dup.body.error.fields[0].code], ['name', 'NAME_TAKEN']);
  // A revoked token's name is free again.
  const mine = (await t.call('GET', '/api/tokens')).body.tokens.find((x: any) => x.name === 'ci-shop');
  assert.equal((await t.call('DELETE', `/api/tokens/${mine.id}`)).status, 204);
  assert.equal((await t.call('POST', '/api/tokens', { name: 'ci-shop', scope: 'app:shop:read' })).status, 201);
});

test('the one table: levels include the ones before them; README and the OpenAPI document carry it', async () => {
  assert.equal(scopeCovers('app:abc:deploy', { kind: 'app', app: 'abc', level: 'read' }), true);
  assert.equal(scopeCovers('app:abc:deploy', { kind: 'app', app: 'abc', level: 'manage' }), false);
  assert.equal(scopeCovers('app:abc:manage', { kind: 'app', app: 'abc', level: 'deploy' }), true);
  assert.equal(scopeCovers('app:abc:manage', { kind: 'app', app: 'bcd', level: 'read' }), false);
  assert.equal(scopeCovers('app:abc:manage', { kind: 'admin' }), false);
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  assert.ok(readme.includes(scopeTableMarkdown()), 'README shows SCOPE_TABLE as it is');
  const doc = (await t.call('GET', '/api/openapi.json', undefined, null)).body;
  assert.ok(doc.info.description.includes(scopeTableMarkdown()));
  assert.ok(doc.components.securitySchemes.bearer.description.includes('app:<name>:manage'));
});

test('versions order as releases do: a prerelease before its release', () => {
  assert.ok(compareVersions('0.22.0', '0.23.1') < 0);
  assert.ok(compareVersions('0.23.10', '0.23.9') > 0);
  assert.ok(compareVersions('0.41.0-rc.1', '0.41.0') < 0);
  assert.ok(compareVersions('0.41.0-rc.10', '0.41.0-rc.9') > 0);
  assert.equal(compareVersions('1.2.3', '1.2.3'), 0);
  // semver's prerelease order: numbers by value and below words, words by their characters, a prefix first.
  assert.ok(compareVersions('0.41.0-1', '0.41.0-alpha') < 0);
  assert.ok(compareVersions('0.41.0-alpha', '0.41.0-alpha.1') < 0);
  assert.ok(compareVersions('0.41.0-alpha.beta', '0.41.0-beta') < 0);
  assert.ok(compareVersions('0.41.0-beta.11', '0.41.0-beta.2') > 0);
  assert.ok(compareVersions('0.41.0-rc.1', '0.41.0-rc.a') < 0);
  assert.ok(compareVersions('0.41.0-RC.1', '0.41.0-rc.1') < 0);
});
