import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { httpRequest } from '../support/http.js';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { MARKER, WRONG_TYPES, deepJson, hostileStrings } from '../support/hostile.js';
import { PB_LATEST } from '../support/pocketbase.js';
import { eachLimited } from '../support/pool.js';

// The HTTP corpus runs whole; the command line and the helper (a process each)
// take every third (the CLI, a Node start each, every ninth) unless HOSTILE_FULL=1.
const FULL = process.env.HOSTILE_FULL === '1';
const STRINGS = hostileStrings();
const SAMPLE = FULL ? STRINGS : STRINGS.filter((_, i) => i % 3 === 0);
const CLI_SAMPLE = FULL ? STRINGS : STRINGS.filter((_, i) => i % 9 === 0);
/** Cases of the command line and the helper run this many at once. */
const AT_ONCE = 4;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const VALID_TOKEN_NAME = (s: string) => s.length <= 64 && /^[A-Za-z0-9 ._:@-]+$/.test(s);

let h: PocketdHost;
const tally = { cases: 0, failures: [] as string[] };
before(async () => {
  h = await setupPocketdHost();
  const r = await h.api('POST', '/api/apps', { name: 'target', domains: ['target.test'] });
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
});
after(async () => {
  console.log(`hostile corpus: ${tally.cases} cases, ${tally.failures.length} failures${FULL ? ' (full size)' : ''}`);
  await h?.stop();
});

const enc = (s: string): string | null => {
  try {
    return encodeURIComponent(s);
  } catch {
    return null;
  }
};

/** One case: the answer must be a 4xx in the error envelope (or one of `ok`), never a 5xx. */
async function expect4xx(label: string, method: string, path: string, body?: unknown, ok: number[] = []) {
  tally.cases++;
  let r: { status: number; body: any };
  try {
    r = await h.api(method, path, body);
  } catch (err) {
    tally.failures.push(
      `${label}: ${method} ${path} ${JSON.stringify(body)?.slice(0, 100)} -> ${(err as Error).message} ${String((err as Error).cause)}`,
    );
    return;
  }
  const good =
    ok.includes(r.status) ||
    (r.status >= 400 &&
      r.status < 500 &&
      typeof r.body?.error?.code === 'string' &&
      typeof r.body.error.message === 'string');
  if (!good) tally.failures.push(`${label}: ${method} ${path} -> ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
}

test('hostile strings in every field that takes text get a 4xx envelope', async () => {
  for (const s of STRINGS) {
    const app = { name: 'hostile-new' };
    await expect4xx('app name', 'POST', '/api/apps', { name: s });
    await expect4xx('validate name', 'POST', '/api/validate/app', { name: s }, [200]);
    await expect4xx('domain', 'POST', '/api/apps', { ...app, domains: [s] });
    await expect4xx('version', 'POST', '/api/apps', { ...app, pocketbase_version: s });
    await expect4xx('memory', 'POST', '/api/apps', { ...app, memory_max: s });
    await expect4xx('env key', 'POST', '/api/apps', { ...app, env: { [s]: 'v' } });
    await expect4xx('superuser', 'POST', '/api/apps', { ...app, superuser: { email: s, password: s } });
    await expect4xx('patch domain', 'PATCH', '/api/apps/target', { domains: [s] });
    await expect4xx('patch memory', 'PATCH', '/api/apps/target', { memory_max: s });
    await expect4xx('patch schedule', 'PATCH', '/api/apps/target', { backup_schedule: s });
    await expect4xx('env put key', 'PUT', '/api/apps/target/env', { env: { [s]: 'v' } });
    if (CONTROL.test(s)) await expect4xx('env put value', 'PUT', '/api/apps/target/env', { env: { OK: s } });
    await expect4xx('upgrade version', 'POST', '/api/apps/target/upgrade', { version: s });
    // A name of printable letters, digits and . _ : @ - and spaces is a valid display name, not hostile.
    if (!VALID_TOKEN_NAME(s)) await expect4xx('token name', 'POST', '/api/tokens', { name: s, scope: 'admin' });
    await expect4xx('token scope', 'POST', '/api/tokens', { name: 'ok', scope: s });
    await expect4xx('login', 'POST', '/api/auth/login', { email: s, password: s });
    const e = enc(s);
    if (e === null) continue;
    for (const [m, p] of [
      ['GET', `/api/apps/${e}`],
      ['GET', `/api/apps/${e}/logs`],
      ['POST', `/api/apps/${e}/restart`],
      ['DELETE', `/api/apps/${e}`],
      ['POST', `/api/apps/${e}/upgrade`],
      ['GET', `/api/apps/${e}/backups`],
      ['GET', `/api/deployments/${e}`],
    ] as const) {
      await expect4xx('path', m, p, m === 'POST' && p.endsWith('upgrade') ? { version: PB_LATEST } : undefined);
    }
    for (const q of [`since=${e}`, `until=${e}`, `priority=${e}`, `lines=${e}`])
      await expect4xx('log query', 'GET', `/api/apps/target/logs?${q}`);
    // A search is data: any text without control characters is a valid needle (regex characters included).
    await expect4xx(
      'log search',
      'GET',
      `/api/apps/target/logs?q=${e}`,
      undefined,
      CONTROL.test(s) || s.length > 200 ? [] : [200],
    );
    await expect4xx('list domain', 'GET', `/api/apps?domain=${e}`);
    await expect4xx('list status', 'GET', `/api/apps?status=${e}`);
    await expect4xx('deployments app', 'GET', `/api/deployments?app=${e}`);
    await expect4xx('metrics since', 'GET', `/api/apps/target/metrics?since=${e}`);
  }
  assert.deepEqual(tally.failures, []);
});

test('wrong types, out-of-range numbers and malformed bodies get a 4xx envelope', async () => {
  const before = tally.failures.length;
  for (const w of WRONG_TYPES) {
    await expect4xx('port', 'POST', '/api/apps', { name: 'hostile-new', port: w });
    await expect4xx('cpu', 'POST', '/api/apps', { name: 'hostile-new', cpu_quota: w });
    // A list of strings (none, or a single-label host name like "intranet") is a valid value here.
    if (!Array.isArray(w)) await expect4xx('domains', 'POST', '/api/apps', { name: 'hostile-new', domains: w });
    await expect4xx('env', 'POST', '/api/apps', {
      name: 'hostile-new',
      env: w === null || typeof w !== 'object' || Array.isArray(w) ? w : { A: w },
    });
    await expect4xx('name', 'POST', '/api/apps', { name: w });
    await expect4xx('keep', 'PATCH', '/api/apps/target', { backup_keep: w === 1.5 ? 0 : w });
    await expect4xx('expires', 'POST', '/api/tokens', { name: 'x', scope: 'admin', expires_days: w });
    await expect4xx('bundle', 'POST', '/api/apps/target/deploy', { bundle: w });
    await expect4xx('rollback', 'POST', '/api/apps/target/rollback', { deployment_id: w, data: w });
  }
  // httpRequest, not fetch: it reports an answer sent before the whole body was read (413).
  const raw = async (label: string, body: string) => {
    tally.cases++;
    try {
      const r = await httpRequest(Number(new URL(h.url).port), '/api/apps', {
        method: 'POST',
        body,
        timeoutMs: 20_000,
        headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
      });
      let j: any = null;
      try {
        j = JSON.parse(r.body);
      } catch {
        /* checked below */
      }
      if (r.status < 400 || r.status >= 500 || !j?.error?.code)
        tally.failures.push(`${label}: ${r.status} ${r.body.slice(0, 200)}`);
    } catch (err) {
      tally.failures.push(`${label}: ${(err as Error).message}`);
    }
  };
  await raw('duplicate key', `{"name":"${MARKER}a","name":"hostile-dup"}`);
  await raw('deep nesting', deepJson(10_000));
  await raw('truncated', '{"name": "x"');
  await raw('not json', `name=${MARKER}`);
  await raw('array body', '[]');
  await raw('huge body', JSON.stringify({ name: 'x', pad: 'a'.repeat(2 * 1024 * 1024) }));
  await raw('number body', '1e999');
  assert.deepEqual(tally.failures.slice(before), []);
  assert.equal((await h.api('GET', '/api/apps/hostile-dup')).status, 404);
});

test('the command line refuses hostile arguments with a usage error, never a crash', async () => {
  const before = tally.failures.length;
  const cases: string[][] = [];
  for (const s of CLI_SAMPLE) {
    if (s.includes('\u0000') || s.length > 1000) continue; // argv cannot hold NUL; very long ones are the same case
    for (const argv of [
      ['token', 'create', '--name', s, '--scope', 'admin'],
      ['token', 'create', '--name', 'ok', '--scope', s],
      ['admin', 'create', '--email', s, '--password', 'long enough password'],
    ]) {
      if (argv[0] === 'token' && argv[3] === s && VALID_TOKEN_NAME(s)) continue;
      cases.push(argv);
    }
  }
  // Each case is a process of its own that only waits: a few at once.
  await eachLimited(cases, AT_ONCE, async (argv) => {
    tally.cases++;
    const r = await h.sbx.exec(['/usr/local/bin/pocketd', ...argv]);
    if (r.code === 0 || r.code > 2 || /\n\s+at /.test(r.stderr))
      tally.failures.push(`cli ${JSON.stringify(argv)}: exit ${r.code} ${r.stderr.slice(0, 200)}`);
  });
  assert.deepEqual(tally.failures.slice(before), []);
});

test('the helper refuses hostile names, versions and ids (exit 64/65), run through sudo as the daemon', async () => {
  const before = tally.failures.length;
  const helper = ['sudo', '-n', '/usr/local/lib/pocketd/pocketd-helper'];
  const cases: Array<{ args: string[]; input?: string }> = [];
  for (const s of SAMPLE) {
    if (s.includes('\u0000') || s.length > 1000) continue;
    for (const args of [
      ['install-unit', s],
      ['start', s],
      ['purge-app', s],
      ['backup', 'target', s],
      ['backup', s, '1'],
      ['restore-backup', 'target', s],
      ['superuser', s],
      ['install-bundle', s],
      ['install-release', s],
      [s, 'target'],
    ])
      cases.push({ args });
    // The same strings in the fields of a spec: refused (65) naming the field, nothing written.
    for (const spec of [
      { port: 21999, version: s, memory_max: null, cpu_quota: null },
      { port: 21999, version: PB_LATEST, memory_max: s, cpu_quota: null },
    ])
      cases.push({ args: ['install-unit', 'target'], input: JSON.stringify(spec) });
  }
  await eachLimited(cases, AT_ONCE, async ({ args, input }) => {
    tally.cases++;
    const r = await h.sbx.exec([...helper, ...args], { user: 'pocketd', input });
    if (input === undefined ? ![64, 65].includes(r.code) : r.code !== 65 || !/version|memory_max/.test(r.stderr))
      tally.failures.push(`helper ${JSON.stringify(args)} ${input ?? ''}: exit ${r.code} ${r.stderr.slice(0, 200)}`);
  });
  assert.deepEqual(tally.failures.slice(before), []);
});

test('afterwards no unit, site, env file, directory or database row holds the hostile text', async () => {
  const found = await h.sbx.exec([
    'sh',
    '-c',
    `grep -rl ${MARKER} /etc/systemd/system /etc/caddy /etc/pocketd /var/lib/pocketd-apps /var/lib/pocketd/staging /var/lib/pocketd/bundles /tmp 2>/dev/null; find / -xdev -name '*${MARKER}*' -not -path '/proc/*' -not -path '/srv/*' 2>/dev/null; true`,
  ]);
  assert.equal(found.stdout.trim(), '', found.stdout);
  const dump = await h.sbx.run(['sqlite3', '/var/lib/pocketd/pocketd.db', '.dump']);
  const rows = dump.split('\n').filter((l) => l.includes(MARKER));
  assert.deepEqual(rows, []);
  const apps = (await h.api('GET', '/api/apps')).body.apps.map((a: any) => a.name);
  assert.deepEqual(apps, ['target']);
  assert.equal((await h.api('GET', '/api/apps/target')).body.config_match.match, true);
  const units = (await h.sbx.run(['sh', '-c', 'ls /etc/systemd/system | grep ^pb- || true'])).trim();
  assert.equal(units, 'pb-target.service');
});
