import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { httpRequest } from '../support/http.js';
import { buildZip } from '../support/zip.js';
import { PB_VERSIONS } from '../support/pocketbase.js';
import { capabilitiesOf } from '../../src/shared/pocketbase/versions.js';

/**
 * Issue #26: one app lives through every real PocketBase version pinned in
 * test/pocketbase/versions.json, oldest to newest, as its owner would see it:
 * made with a superuser on the oldest, a collection and a record written through
 * Caddy with that superuser's token, a hooks bundle deployed; then each upgrade
 * keeps the record (its field's value read back), the hook and the superuser; a
 * rollback with data returns to the release before with the data it had; a way
 * back across 0.23 without the data is refused, naming why, and the way with the
 * data works. Pinning another version puts it in the chain.
 */

const cmp = (a: string, b: string) => {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
};
const CHAIN = [...PB_VERSIONS].sort(cmp);
const APP = 'compat';
const DOMAIN = 'compat.test';
const EMAIL = 'owner@compat.test';
const PASSWORD = 'compat-superuser-pw';
const KEPT = 'written on the oldest release, kept by every newer one';

/**
 * One hooks file for both hooks APIs: before 0.23 a route's handler gets echo's
 * context (whose `request` is a method), from 0.23 a request event (whose
 * `request` is the request itself). It says which one it was given.
 */
const HELLO_HOOK = `// pocketd's compatibility test: one file for both hooks APIs
routerAdd("GET", "/hello", (ctx) => {
  const api = typeof ctx.request === "function" ? "echo" : "event";
  return ctx.string(200, "hello from the " + api + " hooks API");
});
`;

let h: PocketdHost;
before(async () => {
  // The mirror serves every pinned version (not only the four constants), so pinning one more tests it here.
  h = await setupPocketdHost({ releases: CHAIN.map((version) => ({ version })) });
});
after(async () => {
  await h?.stop();
});

const viaCaddy = (path: string, opts: { method?: string; body?: unknown; token?: string } = {}) =>
  httpRequest(h.sbx.caddy.httpPort, path, {
    host: DOMAIN,
    method: opts.method,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    headers: {
      ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(opts.token ? { authorization: opts.token } : {}),
    },
  });

/** Signs the superuser in through Caddy on the sign-in path of the version the app runs; its token. */
async function signIn(version: string): Promise<string> {
  const r = await viaCaddy(capabilitiesOf(version).authPath, {
    method: 'POST',
    body: { identity: EMAIL, password: PASSWORD },
  });
  assert.equal(r.status, 200, `superuser sign-in on ${version}: ${r.status} ${r.body}`);
  const token = (JSON.parse(r.body) as { token?: string }).token;
  assert.ok(token, `no token from ${version}: ${r.body}`);
  return token;
}

/** The `title` of every record of `things`, read as the superuser (the collection's rules let nobody else). */
async function titles(token: string): Promise<string[]> {
  const r = await viaCaddy('/api/collections/things/records?perPage=50&sort=created', { token });
  assert.equal(r.status, 200, `listing things: ${r.body}`);
  return (JSON.parse(r.body) as { items: Array<{ title: string }> }).items.map((i) => i.title);
}

async function deployment(path: string, body: unknown) {
  const r = await h.api('POST', path, body);
  assert.equal(r.status, 202, `${path}: ${JSON.stringify(r.body)}`);
  const d = await h.waitDeployment(r.body.deployment_id, 5 * 60_000);
  assert.equal(d.status, 'success', `${path} ${JSON.stringify(body)}: ${JSON.stringify(d)}`);
  return d;
}

/** What the owner expects of the app on `version`: it runs it, the record, the hook and the superuser work. */
async function assertKept(version: string, expected: string[]) {
  assert.equal((await h.api('GET', `/api/apps/${APP}`)).body.version, version);
  const token = await signIn(version);
  assert.deepEqual(await titles(token), expected, `records on ${version}`);
  const hello = await viaCaddy('/hello');
  assert.equal(hello.status, 200, `hook route on ${version}: ${hello.body}`);
  const api = capabilitiesOf(version).accounts === 'admins' ? 'echo' : 'event';
  assert.equal(hello.body, `hello from the ${api} hooks API`);
  return token;
}

test(`one app through every pinned release (${CHAIN.join(' -> ')}): record, hook and superuser kept; rollback with data`, async (t) => {
  assert.ok(CHAIN.length >= 3, `the chain needs at least three releases: ${CHAIN.join()}`);
  const started = Date.now();
  const oldest = CHAIN[0]!;
  const r = await h.api('POST', '/api/apps', {
    name: APP,
    domains: [DOMAIN],
    pocketbase_version: oldest,
    superuser: { email: EMAIL, password: PASSWORD },
  });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');

  // A collection only superusers may read, in the shape of the oldest release (`schema` before 0.23, `fields` after).
  let token = await signIn(oldest);
  const field = [{ name: 'title', type: 'text', required: true }];
  const shape = capabilitiesOf(oldest).accounts === 'admins' ? { schema: field } : { fields: field };
  const col = await viaCaddy('/api/collections', {
    method: 'POST',
    token,
    body: { name: 'things', type: 'base', ...shape },
  });
  assert.equal(col.status, 200, `creating the collection on ${oldest}: ${col.body}`);
  const rec = await viaCaddy('/api/collections/things/records', { method: 'POST', token, body: { title: KEPT } });
  assert.equal(rec.status, 200, `creating the record: ${rec.body}`);
  // Nobody but the superuser reads it: a later check that sees the record is a check of the superuser too.
  assert.equal((await viaCaddy('/api/collections/things/records')).status, 403);

  // The hooks, as a bundle.
  const form = new FormData();
  const zip = buildZip([{ name: 'pb_hooks/hello.pb.js', data: HELLO_HOOK }]);
  form.set('file', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), 'hooks.zip');
  const up = await fetch(`${h.url}/api/apps/${APP}/bundles`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}` },
    body: form,
  });
  assert.equal(up.status, 201, await up.clone().text());
  const bundle = ((await up.json()) as { number: number }).number;
  await deployment(`/api/apps/${APP}/deploy`, { bundle });
  await assertKept(oldest, [KEPT]);

  // Before the owner moves: the notes of every release up to the newest, and the breaking ones crossed, for a read token too.
  const reader = await h.api('POST', '/api/tokens', { name: 'compat-reader', scope: `app:${APP}:read` });
  assert.equal(reader.status, 201, JSON.stringify(reader.body));
  const notes = await h.api(
    'GET',
    `/api/apps/${APP}/upgrade-notes?to=${CHAIN.at(-1)}`,
    undefined,
    reader.body.token as string,
  );
  assert.equal(notes.status, 200, JSON.stringify(notes.body));
  assert.deepEqual(
    notes.body.releases.map((x: { version: string }) => x.version),
    CHAIN.slice(1),
  );
  for (const x of notes.body.releases) assert.match(x.notes, new RegExp(`pocketd-test-marker-${x.version}\\b`));
  const crossed = notes.body.breaking.map((b: { version: string }) => b.version);
  if (capabilitiesOf(oldest).accounts !== capabilitiesOf(CHAIN.at(-1)!).accounts) assert.ok(crossed.includes('0.23.0'));

  // Up the chain, one release at a time; each deployment id kept for the way back.
  const reached = new Map<string, number>();
  for (const version of CHAIN.slice(1)) {
    const at = Date.now();
    const d = await deployment(`/api/apps/${APP}/upgrade`, { version });
    reached.set(version, d.id as number);
    token = await assertKept(version, [KEPT]);
    t.diagnostic(`upgrade to ${version}: ${Date.now() - at} ms`);
  }

  // Written on the newest release only: a rollback with data to the one before must not have it.
  const newest = CHAIN.at(-1)!;
  const previous = CHAIN.at(-2)!;
  const late = await viaCaddy('/api/collections/things/records', {
    method: 'POST',
    token,
    body: { title: `written on ${newest}` },
  });
  assert.equal(late.status, 200, late.body);
  assert.deepEqual(await titles(token), [KEPT, `written on ${newest}`]);
  await deployment(`/api/apps/${APP}/rollback`, { deployment_id: reached.get(previous), data: true });
  await assertKept(previous, [KEPT]);

  // Where the chain crosses 0.23 (superusers) back to 0.22 (admins), the way back without the data is refused,
  // naming the reason, and the app is left as it is; with the data it works.
  const last022 = [...CHAIN].reverse().find((v) => capabilitiesOf(v).accounts === 'admins');
  const current = capabilitiesOf(previous).accounts;
  if (last022 && current === 'superusers') {
    const said = await h.api('GET', `/api/apps/${APP}/upgrade-notes?to=${last022}`);
    assert.equal(said.status, 200, JSON.stringify(said.body));
    assert.equal(said.body.direction, 'downgrade');
    assert.equal(said.body.refused?.code, 'DOWNGRADE_UNSUPPORTED');
    assert.ok(said.body.breaking.some((b: { version: string }) => b.version === '0.23.0'));
    const down = await h.api('POST', `/api/apps/${APP}/upgrade`, { version: last022 });
    assert.equal(down.status, 422, JSON.stringify(down.body));
    const issue = down.body.error.fields.find((d: { field: string }) => d.field === 'version');
    assert.equal(issue?.code, 'DOWNGRADE_UNSUPPORTED', JSON.stringify(down.body));
    assert.match(issue.message, new RegExp(`PocketBase ${last022.replace(/\./g, '\\.')} cannot read the data`));
    assert.match(issue.message, /roll back with the data/);
    const to022 = reached.get(last022) ?? (r.body.deployment_id as number);
    const bare = await h.api('POST', `/api/apps/${APP}/rollback`, { deployment_id: to022, data: false });
    assert.equal(bare.status, 422, JSON.stringify(bare.body));
    assert.equal(bare.body.error.fields[0].field, 'data');
    assert.equal(bare.body.error.fields[0].code, 'DOWNGRADE_UNSUPPORTED');
    await assertKept(previous, [KEPT]);
    await deployment(`/api/apps/${APP}/rollback`, { deployment_id: to022, data: true });
    await assertKept(last022, [KEPT]);
  }
  t.diagnostic(`the whole chain: ${Date.now() - started} ms`);
});
