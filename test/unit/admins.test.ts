import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createTestApi, expectEnvelope, type TestApi } from '../support/api.js';
import { base32Decode, hotp, stepAt } from '../../src/core/auth/totp.js';

// Admins in the dashboard and their second factor (#31), through the real API stack on a real store.
let t: TestApi;
let clock = Date.parse('2026-11-30T04:00:00Z');
const PW = 'correct horse battery';
const codeAt = (secret: string, offsetSteps = 0) => hotp(base32Decode(secret), stepAt(clock / 1000) + offsetSteps);
const login = (email: string, password = PW, code?: string) =>
  t.call('POST', '/api/auth/login', { token: null, body: { email, password, ...(code ? { code } : {}) } });
async function session(email: string, password = PW): Promise<string> {
  const r = await login(email, password);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.token;
}
const fieldsOf = (body: unknown) => expectEnvelope(body).fields.map((f) => f.field);

before(async () => {
  t = await createTestApi({ maxFailures: 5, lockSeconds: 60, now: () => clock });
  await t.auth.createUser('first@example.com', PW);
  const now = new Date().toISOString();
  await t.db
    .insertInto('apps')
    .values({
      ...{
        name: 'shop',
        app_id: 'a10900000000000a',
        port: 20001,
        version: '0.40.6',
        memory_max: null,
        cpu_quota: null,
      },
      ...{ env: '{}', status: 'ready', desired_state: 'running', created_at: now, updated_at: now },
    })
    .execute();
});
after(async () => {
  await t.close();
});

test('admins: list, add (422 naming the field, 409 when taken), and the audit log keeps no password', async () => {
  const s = await session('first@example.com');
  const bad = await t.call('POST', '/api/admins', { token: s, body: { email: 'not-mail', password: 'short' } });
  assert.equal(bad.status, 422);
  assert.deepEqual(fieldsOf(bad.body).sort(), ['email', 'password']);
  const made = await t.call('POST', '/api/admins', { token: s, body: { email: 'Second@Example.com', password: PW } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  assert.equal(made.body.email, 'second@example.com');
  assert.equal(made.body.two_factor, false);
  const again = await t.call('POST', '/api/admins', { token: s, body: { email: 'second@example.com', password: PW } });
  assert.equal(again.status, 409);
  const list = await t.call('GET', '/api/admins', { token: s });
  assert.deepEqual(
    list.body.admins.map((a: any) => a.email),
    ['first@example.com', 'second@example.com'],
  );
  assert.ok(list.body.admins[0].sessions >= 1);
  const entry = (await t.call('GET', '/api/audit?limit=5')).body.entries.find(
    (e: any) => e.route === '/api/admins' && e.status === 201,
  );
  assert.equal(entry.target, String(made.body.id));
  assert.equal(entry.actor, 'first@example.com');
  assert.doesNotMatch(JSON.stringify(entry), /correct horse/);
});

test('from a read, deploy or manage token none of it is reachable; an admin API token cannot act as a login', async () => {
  const seats = await Promise.all(
    ['read', 'deploy', 'manage'].map(
      async (l) => (await t.auth.createApiToken(`s-${l}`, `app:shop:${l}`, 1, null)).token,
    ),
  );
  const calls: Array<[string, string, unknown?]> = [
    ['GET', '/api/admins'],
    ['POST', '/api/admins', { email: 'evil@example.com', password: PW }],
    ['DELETE', '/api/admins/1'],
    ['POST', '/api/auth/password', { current_password: PW, new_password: 'evil evil evil' }],
    ['GET', '/api/auth/totp'],
    ['POST', '/api/auth/totp/enrol', { password: PW }],
    ['POST', '/api/auth/totp/disable', { password: PW }],
  ];
  for (const token of seats)
    for (const [m, p, body] of calls) assert.equal((await t.call(m, p, { token, body })).status, 403, `${m} ${p}`);
  // An admin API token manages admins, but has no own password or second factor to change.
  assert.equal((await t.call('GET', '/api/admins')).status, 200);
  for (const [m, p, body] of calls.slice(3)) assert.equal((await t.call(m, p, { body })).status, 403, `${m} ${p}`);
  assert.equal((await t.call('GET', '/api/admins', { token: null })).status, 401);
  assert.equal(
    (await t.db.selectFrom('users').select('id').where('email', '=', 'evil@example.com').executeTakeFirst()) ?? null,
    null,
  );
});

test('changing one own password: the current one is checked, the other sessions end, this one stays', async () => {
  await t.admins.create('pw@example.com', PW);
  const a = await session('pw@example.com');
  const b = await session('pw@example.com');
  const wrong = await t.call('POST', '/api/auth/password', {
    token: a,
    body: { current_password: 'nope nope nope', new_password: 'a new password 1' },
  });
  assert.equal(wrong.status, 422);
  assert.deepEqual(fieldsOf(wrong.body), ['current_password']);
  assert.equal((await t.call('GET', '/api/auth/me', { token: a })).status, 200, 'a wrong password does not sign out');
  const ok = await t.call('POST', '/api/auth/password', {
    token: a,
    body: { current_password: PW, new_password: 'a new password 1' },
  });
  assert.equal(ok.status, 204);
  assert.equal((await t.call('GET', '/api/auth/me', { token: a })).status, 200);
  assert.equal((await t.call('GET', '/api/auth/me', { token: b })).status, 401);
  assert.equal((await login('pw@example.com')).status, 401);
  assert.equal((await login('pw@example.com', 'a new password 1')).status, 200);
});

test('removing admins: never the last; a removed admin is signed out and its tokens end', async () => {
  await t.admins.create('gone@example.com', PW);
  const gone = await session('gone@example.com');
  const id = (await t.call('GET', '/api/admins')).body.admins.find((a: any) => a.email === 'gone@example.com').id;
  const made = await t.call('POST', '/api/tokens', { token: gone, body: { name: 'made-by-gone', scope: 'admin' } });
  assert.equal(made.status, 201);
  assert.equal((await t.call('DELETE', `/api/admins/${id}`)).status, 204);
  assert.equal((await t.call('GET', '/api/auth/me', { token: gone })).status, 401);
  assert.equal((await t.call('GET', '/api/auth/me', { token: made.body.token })).status, 401);
  assert.equal((await t.call('DELETE', `/api/admins/${id}`)).status, 404);
  assert.equal((await t.call('DELETE', '/api/admins/abc')).status, 422);
  // Down to one: that one (even removing itself) is refused.
  for (const a of (await t.call('GET', '/api/admins')).body.admins.slice(1))
    assert.equal((await t.call('DELETE', `/api/admins/${a.id}`)).status, 204);
  const [last] = (await t.call('GET', '/api/admins')).body.admins;
  const self = await session(last.email);
  const r = await t.call('DELETE', `/api/admins/${last.id}`, { token: self });
  assert.equal(r.status, 409);
  assert.equal(expectEnvelope(r.body).code, 'LAST_ADMIN');
  assert.equal((await t.call('GET', '/api/auth/me', { token: self })).status, 200);
});

test('TOTP: enrol (password again), confirm with the first code, sign in needs the code; codes are used once', async () => {
  await t.admins.create('totp@example.com', PW);
  const s = await session('totp@example.com');
  assert.equal(
    (await t.call('POST', '/api/auth/totp/enrol', { token: s, body: { password: 'wrong wrong' } })).status,
    422,
  );
  const e = await t.call('POST', '/api/auth/totp/enrol', { token: s, body: { password: PW } });
  assert.equal(e.status, 200);
  const { secret, otpauth_uri } = e.body;
  assert.match(secret, /^[A-Z2-7]{32}$/);
  assert.equal(new URL(otpauth_uri).searchParams.get('secret'), secret);
  // Not on until confirmed: the password alone still signs in.
  assert.equal((await t.call('GET', '/api/auth/totp', { token: s })).body.enabled, false);
  assert.equal((await login('totp@example.com')).status, 200);
  const wrong = await t.call('POST', '/api/auth/totp/confirm', { token: s, body: { code: codeAt(secret, 3) } });
  assert.equal(wrong.status, 422);
  assert.deepEqual(fieldsOf(wrong.body), ['code']);
  const c = await t.call('POST', '/api/auth/totp/confirm', { token: s, body: { code: codeAt(secret) } });
  assert.equal(c.status, 200, JSON.stringify(c.body));
  const recovery: string[] = c.body.recovery_codes;
  assert.equal(recovery.length, 10);
  assert.equal(new Set(recovery).size, 10);
  const st = (await t.call('GET', '/api/auth/totp', { token: s })).body;
  assert.deepEqual({ ...st, enabled_at: null }, { enabled: true, enabled_at: null, recovery_codes_left: 10 });
  assert.equal((await t.call('POST', '/api/auth/totp/enrol', { token: s, body: { password: PW } })).status, 409);

  const need = await login('totp@example.com');
  assert.equal(need.status, 401);
  assert.equal(expectEnvelope(need.body).code, 'TOTP_REQUIRED');
  assert.equal(need.body.token, undefined);
  // The confirming code's step is used: the same code again is refused, as is one of a step before.
  assert.equal((await login('totp@example.com', PW, codeAt(secret))).status, 401, 'replay of the confirming code');
  clock += 30_000;
  const code = codeAt(secret);
  assert.equal((await login('totp@example.com', PW, code)).status, 200);
  const replay = await login('totp@example.com', PW, code);
  assert.equal(replay.status, 401);
  assert.equal(expectEnvelope(replay.body).code, 'INVALID_CREDENTIALS');
  assert.equal((await login('totp@example.com', 'wrong password', codeAt(secret, 1))).status, 401);
  // A recovery code works once, with or without its dash, in any case.
  assert.equal((await login('totp@example.com', PW, recovery[0]!.toUpperCase())).status, 200);
  assert.equal((await login('totp@example.com', PW, recovery[0])).status, 401);
  assert.equal((await login('totp@example.com', PW, recovery[1]!.replace('-', ''))).status, 200);
  assert.equal((await t.call('GET', '/api/auth/totp', { token: s })).body.recovery_codes_left, 8);

  // Neither the secret nor a recovery code is kept readable: the secret is sealed, the codes hashed.
  const row = await t.db
    .selectFrom('users')
    .selectAll()
    .where('email', '=', 'totp@example.com')
    .executeTakeFirstOrThrow();
  const dump = JSON.stringify(row) + JSON.stringify((await t.call('GET', '/api/audit?limit=100')).body);
  for (const x of [secret, ...recovery, recovery[2]!.replace('-', ''), code]) assert.ok(!dump.includes(x), x);
  assert.match(row.totp_secret!, /^v1\./);
  assert.equal(statSync(path.join(t.dir, 'secrets.key')).mode & 0o777, 0o600);
  assert.equal(readFileSync(path.join(t.dir, 'secrets.key')).length, 32);
});

test('TOTP: a sealed secret moved to another admin does not open; wrong codes lock the sign-in like wrong passwords', async () => {
  await t.admins.create('lock@example.com', PW);
  const s = await session('lock@example.com');
  const { secret } = (await t.call('POST', '/api/auth/totp/enrol', { token: s, body: { password: PW } })).body;
  assert.equal(
    (await t.call('POST', '/api/auth/totp/confirm', { token: s, body: { code: codeAt(secret) } })).status,
    200,
  );
  clock += 30_000;
  let last = 0;
  for (let i = 0; i < 6; i++) last = (await login('lock@example.com', PW, '000000')).status;
  assert.equal(last, 429, 'wrong codes end in the lock-out');
  const locked = await login('lock@example.com', PW, codeAt(secret));
  assert.equal(locked.status, 429, 'a right code does not pass the lock');
  // Asking without a code does not clear the count either (it is not a success).
  assert.equal(expectEnvelope(locked.body).code, 'TOO_MANY_ATTEMPTS');

  const other = await t.db
    .selectFrom('users')
    .select('totp_secret')
    .where('email', '=', 'lock@example.com')
    .executeTakeFirstOrThrow();
  await t.admins.create('thief@example.com', PW);
  await t.db
    .updateTable('users')
    .set({ totp_secret: other.totp_secret, totp_recovery: '[]' })
    .where('email', '=', 'thief@example.com')
    .execute();
  assert.equal((await login('thief@example.com', PW, codeAt(secret, 1))).status, 401);
});

test('TOTP off: with a code or the password (wrong ones 422); the host operator resets a locked-out admin', async () => {
  await t.admins.create('off@example.com', PW);
  const s = await session('off@example.com');
  const { secret } = (await t.call('POST', '/api/auth/totp/enrol', { token: s, body: { password: PW } })).body;
  await t.call('POST', '/api/auth/totp/confirm', { token: s, body: { code: codeAt(secret) } });
  const both = await t.call('POST', '/api/auth/totp/disable', { token: s, body: { code: '123456', password: PW } });
  assert.equal(both.status, 422);
  assert.equal((await t.call('POST', '/api/auth/totp/disable', { token: s, body: { password: 'nope' } })).status, 422);
  assert.equal(
    (await t.call('POST', '/api/auth/totp/disable', { token: s, body: { code: codeAt(secret) } })).status,
    422,
    'used step',
  );
  clock += 30_000;
  assert.equal(
    (await t.call('POST', '/api/auth/totp/disable', { token: s, body: { code: codeAt(secret) } })).status,
    204,
  );
  assert.equal((await login('off@example.com')).status, 200);
  // Again on, then reset as `pocketd admin totp-reset` does.
  const again = (await t.call('POST', '/api/auth/totp/enrol', { token: s, body: { password: PW } })).body.secret;
  clock += 30_000;
  await t.call('POST', '/api/auth/totp/confirm', { token: s, body: { code: codeAt(again) } });
  assert.equal((await login('off@example.com')).status, 401);
  await t.admins.resetTwoFactor('OFF@example.com');
  assert.equal((await login('off@example.com')).status, 200);
  assert.equal((await t.call('GET', '/api/auth/totp', { token: s })).body.enabled, false);
});
