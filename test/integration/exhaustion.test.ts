import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpRequest } from '../support/http.js';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { openEvents } from '../support/events.js';

/**
 * Issue #25, from each seat on a real host: nobody locks anybody out, nothing grows without
 * bound. The pure parts (throttle, fan-out, uploads, escaping) have unit tests; this file shows
 * what only the host can: Caddy's answer for a host without a site, journalctl processes, the
 * daemon's Host check and its sign-in throttle behind a real socket.
 */
let h: PocketdHost;
let port = 0;
before(async () => {
  h = await setupPocketdHost({ settings: { log_follow_per_token: '4', log_follow_max: '64' } });
  port = Number(new URL(h.url).port);
  const r = await h.api('POST', '/api/apps', { name: 'shop', domains: ['shop.test'] });
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
});
after(async () => {
  await h?.stop();
});

test('network: a host no app serves gets a 404 from Caddy, and so does a deleted app at once', async () => {
  const none = await h.viaCaddy('nobody.test', '/');
  assert.equal(none.status, 404, `a host without a site answered ${none.status} ${JSON.stringify(none.body)}`);
  const made = await h.api('POST', '/api/apps', { name: 'gone', domains: ['gone.test'] });
  assert.equal((await h.waitDeployment(made.body.deployment_id)).status, 'success');
  assert.equal((await h.viaCaddy('gone.test')).status, 200);
  const del = await h.api('DELETE', '/api/apps/gone');
  assert.ok([200, 202].includes(del.status), JSON.stringify(del.body));
  if (del.status === 202) await h.waitDeployment(del.body.deployment_id);
  assert.equal((await h.viaCaddy('gone.test')).status, 404);
});

test('network: the API answers only to its own host names (DNS rebinding)', async () => {
  const evil = await httpRequest(port, '/api/health', { host: `rebound.attacker.example:${port}` });
  assert.equal(evil.status, 421);
  assert.equal(JSON.parse(evil.body).error.code, 'HOST_NOT_ALLOWED');
  assert.equal((await httpRequest(port, '/api/health', { host: `127.0.0.1:${port}` })).status, 200);
  assert.equal((await httpRequest(port, '/api/health', { host: `localhost:${port}` })).status, 200);
});

test('network: failures for another account from loopback do not lock the admin out', async () => {
  const email = 'owner@example.com';
  const password = 'a-long-admin-password';
  await h.sbx.run(['/usr/local/bin/pocketd', 'admin', 'create', '--email', email, '--password-stdin'], {
    input: `${password}\n`,
  });
  const login = (e: string, p: string) =>
    h.api('POST', '/api/auth/login', { email: e, password: p }, null).then((r) => r.status);
  const seen: number[] = [];
  for (let i = 0; i < 6; i++) seen.push(await login('someone-else@example.com', 'wrong'));
  assert.equal(seen.at(-1), 429, `the stranger's pair is blocked: ${seen.join()}`);
  assert.equal(await login(email, password), 200);
  // A burst at the admin's own account from one address: the count is taken before the hash.
  const burst = await Promise.all(Array.from({ length: 60 }, (_, i) => login(email, i === 50 ? password : `x${i}`)));
  assert.ok(burst.filter((s) => s !== 429).length <= 5, burst.join());
  assert.notEqual(burst[50], 200);
});

const journalFollowers = async () =>
  (await h.sbx.run(['ps', '-eo', 'args'])).split('\n').filter((l) => /journalctl .*-u pb-shop\.service.* -f/.test(l))
    .length;

test('read token: live logs share one journalctl, a token at its bound gets a 429, the admin still hears', async () => {
  const read = (await h.api('POST', '/api/tokens', { name: 'reader', scope: 'app:shop:read' })).body.token as string;
  const follow = (token: string, signal: AbortSignal) =>
    fetch(`${h.url}/api/apps/shop/logs?follow=1&lines=1`, { headers: { authorization: `Bearer ${token}` }, signal });
  const stop = new AbortController();
  const mine = await Promise.all(Array.from({ length: 4 }, () => follow(read, stop.signal)));
  assert.deepEqual(
    mine.map((r) => r.status),
    [200, 200, 200, 200],
  );
  const fifth = await follow(read, stop.signal);
  assert.equal(fifth.status, 429);
  assert.equal(((await fifth.json()) as { error: { code: string } }).error.code, 'TOO_MANY_STREAMS');
  const admin = await follow(h.token, stop.signal);
  assert.equal(admin.status, 200);
  const events = openEvents(admin);
  // Every stream is open: one reader serves all five.
  let readers = 0;
  for (let i = 0; i < 50 && readers === 0; i++) {
    readers = await journalFollowers();
    if (readers === 0) await sleep(100);
  }
  assert.equal(readers, 1);
  // systemd's own lines about the unit reach the admin's stream.
  await sleep(300);
  const restart = await h.api('POST', '/api/apps/shop/restart');
  assert.equal(restart.status, 200, JSON.stringify(restart.body));
  const got = await events.read(
    (ev) => ev.some((e) => e.event === 'log' && /Start/i.test(e.data?.message ?? '')),
    15_000,
  );
  assert.ok(
    got.some((e) => e.event === 'log' && /Start/i.test(e.data?.message ?? '')),
    `the admin heard: ${JSON.stringify(got.slice(-5))}`,
  );
  stop.abort();
  for (let i = 0; i < 50 && (await journalFollowers()) > 0; i++) await sleep(100);
  assert.equal(await journalFollowers(), 0, 'the reader stops with its last follower');
});

test('anonymous: failed sign-ins do not grow the audit log one row each', async () => {
  const before = (await h.api('GET', '/api/audit?limit=500')).body.entries.length;
  await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      h.api('POST', '/api/auth/login', { email: `nobody-${i}@example.com`, password: 'x' }, null),
    ),
  );
  const after = (await h.api('GET', '/api/audit?limit=500')).body.entries.length;
  assert.ok(after - before <= 2, `${after - before} rows for 40 failed sign-ins`);
});
