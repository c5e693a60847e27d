import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApi, type TestApi } from '../support/api.js';
import { addressKey, clientAddressResolver } from '../../src/api/middleware/client-address.js';

// Issue #25: sign-in throttling by (address, account) pair and by address, reserved before the hash.
let t: TestApi;
const ADMIN = 'admin@example.com';
const PW = 'correct horse battery';
before(async () => {
  t = await createTestApi({ maxFailures: 5, maxFailuresPerAddress: 12, lockSeconds: 300 });
  await t.auth.createUser(ADMIN, PW);
});
after(async () => {
  await t.close();
});

const status = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: { code?: string }) => (e.code === 'TOO_MANY_ATTEMPTS' ? 429 : e.code === 'INVALID_CREDENTIALS' ? 401 : 500),
  );

test('failures for another account from the same address do not lock the admin out', async () => {
  const seen: number[] = [];
  for (let i = 0; i < 6; i++) seen.push(await status(t.auth.login('other@example.com', 'nope', '198.51.100.1')));
  assert.deepEqual(seen, [401, 401, 401, 401, 429, 429], 'the pair (address, other) is blocked');
  assert.equal(await status(t.auth.login(ADMIN, PW, '198.51.100.1')), 200, 'the admin signs in from that address');
});

test("strangers' failures at the admin's account never lock the admin out at an address of their own", async () => {
  for (let a = 0; a < 4; a++)
    for (let i = 0; i < 6; i++) await status(t.auth.login(ADMIN, 'guess', `203.0.113.${a + 10}`));
  assert.equal(await status(t.auth.login(ADMIN, 'guess', '203.0.113.10')), 429, 'a stranger is blocked');
  assert.equal(await status(t.auth.login(ADMIN, PW, '192.0.2.44')), 200, 'the admin is not');
});

test('a burst of concurrent sign-ins cannot pass the bound: the count is taken before the hash', async () => {
  const addr = '198.51.100.77';
  // An account of its own, so nothing earlier has counted against it.
  await t.auth.createUser('burst@example.com', PW);
  const tries = Array.from({ length: 300 }, (_, i) =>
    status(t.auth.login('burst@example.com', i === 250 ? PW : `wrong-${i}`, addr)),
  );
  const seen = await Promise.all(tries);
  assert.notEqual(seen[250], 200, 'the right password late in the burst is refused');
  assert.ok(seen.filter((s) => s !== 429).length <= 5, `at most 5 passed: ${seen.filter((s) => s !== 429).length}`);
});

test('an address failing across many accounts is blocked for all of them, with a higher bound', async () => {
  const addr = '198.51.100.200';
  const seen: number[] = [];
  for (let i = 0; i < 14; i++) seen.push(await status(t.auth.login(`spray${i}@example.com`, 'x', addr)));
  assert.equal(seen.slice(0, 11).filter((s) => s === 401).length, 11);
  assert.equal(seen.at(-1), 429);
  assert.equal(await status(t.auth.login(ADMIN, PW, addr)), 429);
  assert.equal(await status(t.auth.login(ADMIN, PW, '198.51.100.201')), 200);
});

test('the state expires: forgotten failures and ended blocks are removed', async () => {
  const before = await t.db.selectFrom('login_failures').selectAll().execute();
  assert.ok(before.length > 0);
  const old = new Date(Date.now() - 3_600_000).toISOString();
  await t.db.updateTable('login_failures').set({ last_at: old, locked_until: old }).execute();
  await t.auth.pruneFailures();
  assert.equal((await t.db.selectFrom('login_failures').selectAll().execute()).length, 0);
});

test('the client address: the peer, or X-Forwarded-For only from a trusted proxy', () => {
  const none = clientAddressResolver([]);
  assert.equal(none('127.0.0.1', '203.0.113.9'), '127.0.0.1');
  const caddy = clientAddressResolver(['127.0.0.1', '10.0.0.0/8']);
  assert.equal(caddy('127.0.0.1', '203.0.113.9'), '203.0.113.9');
  assert.equal(caddy('::ffff:127.0.0.1', '6.6.6.6, 203.0.113.9, 10.1.2.3'), '203.0.113.9');
  assert.equal(caddy('198.51.100.3', '203.0.113.9'), '198.51.100.3', "a stranger's header is ignored");
  assert.equal(caddy('127.0.0.1', 'garbage'), '127.0.0.1');
  assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(addressKey('::ffff:192.0.2.1'), '192.0.2.1');
});

test('the API answers only to its own host names (DNS rebinding)', async () => {
  const at = async (url: string) => (await t.app.request(url)).status;
  assert.equal(await at('http://localhost/api/health'), 200);
  assert.equal(await at('http://127.0.0.1:8091/api/health'), 200);
  assert.equal(await at('http://pocketd.example.com/api/health'), 200);
  const r = await t.app.request('http://rebound.attacker.example/api/health');
  assert.equal(r.status, 421);
  assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'HOST_NOT_ALLOWED');
});

test('refused anonymous requests share one audit row a minute, counted', async () => {
  const count = async () => (await t.db.selectFrom('audit_log').select('id').execute()).length;
  const n0 = await count();
  for (let i = 0; i < 40; i++)
    await t.call('POST', '/api/auth/login', { token: null, body: { email: `x${i}@e.com`, password: '' } });
  for (let i = 0; i < 40; i++) await t.call('POST', `/api/nothing-${i}`, { token: null, body: {} });
  assert.ok((await count()) - n0 <= 2, `rows added: ${(await count()) - n0}`);
});
