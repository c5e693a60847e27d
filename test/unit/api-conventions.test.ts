import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApi, expectEnvelope, type TestApi } from '../support/api.js';

let t: TestApi;
before(async () => {
  t = await createTestApi({ bodyLimitBytes: 2048 });
});
after(async () => {
  await t.close();
});

test('GET /api/health is public and tells nothing secret', async () => {
  const r = await t.call('GET', '/api/health', { token: null });
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.body).sort(), ['status', 'uptime_seconds', 'version']);
  assert.equal(r.body.status, 'ok');
});

test('routes need a token: 401 in the envelope', async () => {
  const r = await t.call('GET', '/api/auth/me', { token: null });
  assert.equal(r.status, 401);
  assert.equal(expectEnvelope(r.body).code, 'UNAUTHENTICATED');
  const bad = await t.call('GET', '/api/auth/me', { token: 'pkd_nonsense' });
  assert.equal(bad.status, 401);
  const wrongScheme = await t.call('GET', '/api/auth/me', { token: null, headers: { authorization: 'Basic abc' } });
  assert.equal(wrongScheme.status, 401);
});

test('unknown route is 404 and wrong method is 405 with Allow', async () => {
  const r = await t.call('GET', '/api/nothing-here');
  assert.equal(r.status, 404);
  assert.equal(expectEnvelope(r.body).code, 'NOT_FOUND');
  const m = await t.call('DELETE', '/api/auth/me');
  assert.equal(m.status, 405);
  assert.equal(expectEnvelope(m.body).code, 'METHOD_NOT_ALLOWED');
  assert.equal(m.headers.get('allow'), 'GET');
});

test('a JSON route refuses other media types with 415', async () => {
  const r = await t.call('POST', '/api/tokens', {
    body: 'name=x',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(r.status, 415);
  assert.equal(expectEnvelope(r.body).code, 'UNSUPPORTED_MEDIA_TYPE');
});

test('malformed JSON is 400 MALFORMED_JSON and writes nothing', async () => {
  const before = await t.auth.listTokens();
  const r = await t.call('POST', '/api/tokens', { body: '{"name": "x",' });
  assert.equal(r.status, 400);
  assert.equal(expectEnvelope(r.body).code, 'MALFORMED_JSON');
  assert.deepEqual(await t.auth.listTokens(), before);
});

test('422 lists every bad field, unknown fields included', async () => {
  const r = await t.call('POST', '/api/tokens', {
    body: { name: 'a\nb', scope: 'root', expires_days: 9999, extra: true },
  });
  assert.equal(r.status, 422);
  const e = expectEnvelope(r.body);
  assert.equal(e.code, 'VALIDATION_FAILED');
  const fields = e.fields.map((f) => f.field).sort();
  assert.deepEqual(fields, ['expires_days', 'extra', 'name', 'scope']);
  assert.equal(e.fields.find((f) => f.field === 'extra')?.code, 'UNKNOWN_FIELD');
});

test('wrong types and over-long strings are 422', async () => {
  const r = await t.call('POST', '/api/tokens', { body: { name: 'x'.repeat(65), scope: 7 } });
  assert.equal(r.status, 422);
  assert.deepEqual(
    expectEnvelope(r.body)
      .fields.map((f) => f.field)
      .sort(),
    ['name', 'scope'],
  );
  const q = await t.call('GET', '/api/audit?limit=abc');
  assert.equal(q.status, 422);
  assert.equal(expectEnvelope(q.body).fields[0]?.field, 'query.limit');
});

test('a body over the limit is 413 and writes nothing', async () => {
  const before = await t.auth.listTokens();
  const r = await t.call('POST', '/api/tokens', { body: { name: 'big', scope: 'admin', pad: 'x'.repeat(10_000) } });
  assert.equal(r.status, 413);
  assert.equal(expectEnvelope(r.body).code, 'PAYLOAD_TOO_LARGE');
  assert.deepEqual(await t.auth.listTokens(), before);
});

test('every response error carries the request id header value', async () => {
  const r = await t.call('GET', '/api/nothing', { headers: { 'x-request-id': 'abc-123' } });
  assert.equal(expectEnvelope(r.body).request_id, 'abc-123');
});

test('the OpenAPI document is generated from the route schemas', async () => {
  const r = await t.call('GET', '/api/openapi.json');
  assert.equal(r.status, 200);
  assert.equal(r.body.openapi, '3.1.0');
  for (const p of ['/api/health', '/api/auth/login', '/api/tokens', '/api/tokens/{id}', '/api/audit']) {
    assert.ok(r.body.paths[p], `missing ${p}`);
  }
  const createToken = r.body.components.schemas.CreateToken;
  assert.deepEqual(createToken.required.sort(), ['name', 'scope']);
  assert.equal(createToken.properties.expires_days.maximum, 365);
});

test('JSON with a duplicate key or very deep nesting is refused before parsing', async () => {
  const { jsonProblem } = await import('../../src/api/middleware/json-guard.js');
  assert.match(jsonProblem('{"name":"a","name":"b"}') ?? '', /'name' appears twice/);
  assert.match(jsonProblem('{"a":{"x":1,"\\u0078":2}}') ?? '', /'x' appears twice/);
  assert.equal(jsonProblem('{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":2}]}'), null);
  assert.equal(jsonProblem('{"s":"a \\" \\\\ } { , name"}'), null);
  assert.match(jsonProblem(`${'['.repeat(40)}${']'.repeat(40)}`) ?? '', /deeper than 32/);
});
