import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { createApi } from '../../src/api/app.js';
import { routeGroups, type RouteDeps } from '../../src/main/route-groups.js';

/**
 * The whole OpenAPI document, every route group of the daemon registered
 * (handlers are never called here, so each dependency is a stand-in that
 * answers any property with itself), linted with Redocly's recommended rules:
 * no error and no warning.
 */
const anything: unknown = new Proxy(function standIn() {}, {
  // Not a promise (`then` is absent), so nothing waits on it forever.
  get: (_t, key) => (key === 'then' ? undefined : key === Symbol.toPrimitive ? () => 'stand-in' : anything),
  apply: () => anything,
});

async function wholeDocument(): Promise<any> {
  const none = {} as never;
  const app = createApi({
    audit: none,
    auth: none,
    log: pino({ level: 'silent' }),
    bodyLimitBytes: 1024,
    startedAt: Date.now(),
    // The daemon's own list of groups (main/route-groups.ts): a group it registers cannot be missing here.
    extra: routeGroups(anything as RouteDeps),
  });
  const res = await app.request('/api/openapi.json');
  assert.equal(res.status, 200);
  return res.json();
}

test('every operation has a unique operationId; the document names its server and license', async () => {
  const doc = await wholeDocument();
  const ops = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([p, m]) =>
    Object.entries(m).map(([method, op]) => ({ id: op.operationId, where: `${method} ${p}` })),
  );
  assert.ok(ops.length >= 40, `${ops.length} operations`);
  for (const o of ops) assert.match(String(o.id), /^[a-z][A-Za-z]+$/, `${o.where} has no operationId`);
  assert.equal(new Set(ops.map((o) => o.id)).size, ops.length, 'operationIds are unique');
  assert.ok(doc.servers?.length >= 1);
  assert.ok(doc.info.license?.name);
});

test("Redocly's recommended rules find nothing in the document", async () => {
  const doc = await wholeDocument();
  const config = await createConfig({ extends: ['recommended'] });
  const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config });
  const lines = problems
    .map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer ?? '?'}`)
    // The one ignored finding, as a .redocly.lint-ignore.yaml would: the public liveness probe answers 200 to any GET, it has no 4xx.
    .filter(
      (l) =>
        l !==
        'warn operation-4xx-response: Operation must have at least one `4XX` response. at #/paths/~1api~1health/get/responses',
    );
  assert.deepEqual(lines, []);
  assert.ok(problems.length <= 1, `${problems.length} findings`);
});
