import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { auditSizes, createAdmin, DESKTOP, launchChromium, openPage, signIn } from '../support/browser.js';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { buildZip } from '../support/zip.js';
import { STANDIN } from '../support/release-mirror.js';

// The operator's day (#31): each dashboard defect it found, shown in Debian's Chromium at desktop and phone sizes.
const ARTIFACTS = path.resolve('test-artifacts', 'operator-ui');
const EMAIL = 'ops@example.com';
const PASSWORD = 'correct horse battery';

let h: PocketdHost;
let browser: Browser;
let page: Page;

before(async () => {
  h = await setupPocketdHost({ settings: { health_interval_seconds: '2', metrics_interval_seconds: '2' } });
  await createAdmin(h, EMAIL, PASSWORD);
  browser = await launchChromium(ARTIFACTS);
  page = await openPage(browser);
  await signIn(page, h.url, EMAIL, PASSWORD);
});
after(async () => {
  await browser?.close();
  await h?.stop();
});

/** At desktop and phone sizes: a screenshot each, and axe finds nothing. */
const audit = (name: string, ready: () => Promise<unknown>, p: Page = page) => auditSizes(p, ARTIFACTS, name, ready);
async function createApp(name: string, extra: Record<string, unknown> = {}) {
  const r = await h.api('POST', '/api/apps', { name, ...extra });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
}
async function signedInWithToken(token: string, who: string): Promise<Page> {
  const other = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  other.setDefaultTimeout(30_000);
  await other.goto(h.url);
  await other.getByText('Use an API token instead').click();
  await other.getByLabel('Token').fill(token);
  await other.getByRole('button', { name: 'Sign in' }).click();
  await other.getByText(who).waitFor();
  return other;
}

test('logs ?priority= takes journald names and numbers; anything else is a 422 naming priority', async () => {
  await createApp('ops', { domains: ['ops.test'] });
  for (const p of ['err', 'warning', '3', 'debug']) {
    const r = await h.api('GET', `/api/apps/ops/logs?priority=${p}&lines=5`);
    assert.equal(r.status, 200, `${p}: ${JSON.stringify(r.body)}`);
  }
  const bad = await h.api('GET', '/api/apps/ops/logs?priority=loud');
  assert.equal(bad.status, 422);
  assert.deepEqual(
    bad.body.error.fields.map((f: any) => f.field),
    ['query.priority'],
  );
  assert.doesNotMatch(JSON.stringify(bad.body), /NaN/);
});

test('GET /api/auth/me says what the token may use', async () => {
  const me = (await h.api('GET', '/api/auth/me')).body;
  assert.equal(me.app, null);
  assert.ok(me.can.includes('host') && me.can.includes('backups.download'));
  const read = (await h.api('POST', '/api/tokens', { name: 'ops-read', scope: 'app:ops:read' })).body.token;
  const mine = (await h.api('GET', '/api/auth/me', undefined, read)).body;
  assert.equal(mine.app, 'ops');
  assert.deepEqual(mine.can, ['app.read']);
});

test('the create form: domains by comma, named by their text; env lines need =; errors in words, each once', async () => {
  await page.goto(`${h.url}/#/new`);
  await page.getByLabel('Name').fill('formapp');
  const domains = page.getByLabel('Domains', { exact: true });
  await domains.fill('not a domain');
  const domainError = page.locator('#domains-error');
  await domainError.getByText('"not a domain" is not a domain').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Create' }).isDisabled(), true, 'not sent as three domains');
  await domains.fill('ok.test, Bad_Domain');
  await domainError.getByText(/"Bad_Domain": must be a lower-case host name/).waitFor();
  assert.doesNotMatch(await domainError.innerText(), /\b1:/, 'named by its text, not its index');
  await domains.fill('formapp.test');
  await domainError.waitFor({ state: 'detached' });
  const env = page.getByLabel('Environment');
  await env.fill('APP_MODE=production\nNOEQUALS');
  await page.locator('#env-error').getByText('line 2 ("NOEQUALS") has no "="').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Create' }).isDisabled(), true);
  await env.fill('1BAD=x');
  await page.locator('#env-error').getByText(/1BAD/).waitFor();
  const envText = await page.locator('#env-error').innerText();
  assert.equal(envText.match(/1BAD/g)?.length, 1, `the key once: ${envText}`);
  await env.fill('APP_MODE=production');
  await page.getByLabel('Email', { exact: true }).fill('owner@example.com');
  await page.getByLabel('Password', { exact: true }).fill('short');
  const su = page.locator('#superuser-error');
  await su.getByText('at least 10 characters').waitFor();
  assert.doesNotMatch(await su.innerText(), /Too small|expected string|>=/);
  await audit('01-create-errors', () => su.waitFor());
  await page.getByLabel('Password', { exact: true }).fill('a long enough password');
  await su.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('link', { name: 'Open formapp' }).waitFor({ timeout: 90_000 });
  const app = (await h.api('GET', '/api/apps/formapp')).body;
  assert.deepEqual(app.domains, ['formapp.test']);
});

test('a young chart spans the hour asked for, not years', async () => {
  // One or two samples: the app was just made.
  for (let i = 0; i < 100; i++) {
    if ((await h.api('GET', '/api/apps/formapp/metrics?limit=5')).body.samples?.length) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await page.getByRole('link', { name: 'Open formapp' }).click();
  await page.locator('.facts').waitFor();
  await page.reload();
  const charts = page.locator('.chart [data-from]');
  await charts.first().waitFor();
  const t0 = Date.now();
  for (const el of await charts.all()) {
    const from = Number(await el.getAttribute('data-from'));
    const to = Number(await el.getAttribute('data-to'));
    assert.ok(Math.abs(to - from - 3600_000) < 60_000, `the axis spans ${(to - from) / 3600_000} h`);
    assert.ok(Math.abs(to - t0) < 120_000, `the axis ends at ${new Date(to).toISOString()}`);
  }
});

test('the PocketBase admin link has the scheme and port the sandbox serves', async () => {
  const href = await page.getByRole('link', { name: /Open PocketBase admin/ }).getAttribute('href');
  assert.equal(href, `http://formapp.test:${h.sbx.caddy.httpPort}/_/`);
  assert.equal((await h.api('GET', '/api/apps/formapp')).body.admin_url, href);
});

test('Stop says "stopping…" while it runs, and the app stops', async () => {
  await page.goto(`${h.url}/#/apps/ops/overview`);
  await page.locator('.facts').waitFor();
  await page.evaluate(() => {
    const seen: string[] = ((window as any).__labels = []);
    new MutationObserver(() => {
      for (const b of document.querySelectorAll('.controls button')) seen.push(b.textContent ?? '');
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.getByRole('button', { name: 'stop', exact: true }).click();
  await page.locator('h1 .badge').getByText('stopped').waitFor();
  const labels = (await page.evaluate(() => (window as any).__labels)) as string[];
  assert.ok(labels.includes('stopping…'), labels.join(', '));
  assert.ok(!labels.some((l) => /stoping/.test(l)), labels.join(', '));
});

test('a stopped app shows no "null%" CPU on the Apps page', async () => {
  // A stopped app's samples have no CPU figure (one every 2 s here; later on a loaded machine).
  let last: unknown = 'none';
  for (let i = 0; i < 200 && last !== null; i++) {
    const s = (await h.api('GET', '/api/summary?limit=60')).body.apps.ops?.samples ?? [];
    last = s.length ? s.at(-1).cpu_percent : 'none';
    if (last !== null) await new Promise((r) => setTimeout(r, 300));
  }
  assert.equal(last, null, 'no sample without a CPU figure came for the stopped app in 60 s');
  const summary = page.waitForResponse((r) => r.url().includes('/api/summary'));
  await page.goto(`${h.url}/#/apps`);
  const row = page.locator('tr[data-app=ops]');
  await row.locator('[data-testid=state]').getByText('stopped').waitFor();
  await summary;
  await page.waitForTimeout(300);
  assert.equal(await row.getByTestId('cpu').innerText(), '—');
  assert.doesNotMatch(await page.locator('main').innerText(), /null%/);
  assert.equal((await h.api('POST', '/api/apps/ops/start')).status < 300, true);
});

test("the Apps table's last button is on screen at every width, without scrolling the table", async () => {
  await createApp('wideapp', {
    domains: ['a-rather-long-domain-name.example.test', 'another-quite-long-domain.example.test', 'third.example.test'],
  });
  await page.goto(`${h.url}/#/apps`);
  for (const width of [1024, 1280, DESKTOP.width]) {
    await page.setViewportSize({ width, height: 900 });
    const wrap = await page.locator('.table-wrap').boundingBox();
    for (const name of ['ops', 'wideapp', 'formapp']) {
      const b = await page.getByRole('button', { name: `restart ${name}` }).boundingBox();
      assert.ok(b && wrap, name);
      assert.ok(
        b.x + b.width <= wrap.x + wrap.width,
        `at ${width}px restart ${name} ends at ${b.x + b.width} > ${wrap.x + wrap.width}`,
      );
      assert.ok(b.x + b.width <= width, `at ${width}px restart ${name} is off screen`);
    }
  }
  await audit('02-apps', () => page.locator('tr[data-app=wideapp]').waitFor());
});

test('during an upgrade the header offers Stop, not Start; the queue link opens the deployment', async () => {
  await page.goto(`${h.url}/#/apps/wideapp/overview`);
  await page.locator('.facts').waitFor();
  const up = await h.api('POST', '/api/apps/wideapp/upgrade', {
    version: STANDIN.unhealthy,
    trial: false,
    allow_downgrade: true,
  });
  assert.equal(up.status, 202);
  const queue = page.getByRole('region', { name: 'Queue', exact: true });
  await queue.getByTestId('queue-item').filter({ hasText: 'upgrade' }).getByText('now').waitFor();
  // While the gate waits on the unhealthy release, the app is one that runs.
  await h.waitStep(up.body.deployment_id, 'wait_health');
  await page.waitForTimeout(500);
  assert.equal(await page.getByRole('button', { name: 'start', exact: true }).isDisabled(), true, 'Start is off');
  assert.equal(await page.getByRole('button', { name: 'stop', exact: true }).isDisabled(), false, 'Stop is on');
  await queue.getByRole('link', { name: `#${up.body.deployment_id}` }).click();
  await page.getByRole('heading', { name: `Deployment #${up.body.deployment_id}` }).waitFor();
  await page.locator('.deployment .step').first().waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Page not found' }).count(), 0);
  await audit('03-deployment-page', () => page.locator('.deployment .step').first().waitFor());
  await page.getByRole('button', { name: `Cancel upgrade #${up.body.deployment_id}` }).click();
  assert.notEqual((await h.waitDeployment(up.body.deployment_id)).status, 'running');
  await page.getByRole('link', { name: 'All deployments of wideapp' }).click();
  await page.getByRole('button', { name: `Open deployment ${up.body.deployment_id}` }).waitFor();
});

test('the deployments list names the bundle with its notes', async () => {
  const form = new FormData();
  const zip = buildZip([{ name: 'pb_public/index.html', data: '<h1>v1</h1>' }]);
  form.set('file', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), 'bundle.zip');
  form.set('notes', 'commit 1a2b3c4 fix checkout');
  const res = await fetch(`${h.url}/api/apps/ops/bundles`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}` },
    body: form,
  });
  assert.equal(res.status, 201);
  const number = ((await res.json()) as any).number as number;
  const d = await h.api('POST', '/api/apps/ops/deploy', { bundle: number });
  assert.equal((await h.waitDeployment(d.body.deployment_id)).status, 'success');
  await page.goto(`${h.url}/#/apps/ops/deployments`);
  await page
    .getByTestId('what')
    .filter({ hasText: `bundle #${number}: commit 1a2b3c4 fix checkout` })
    .waitFor();
  await audit('04-deployments', () => page.getByTestId('what').first().waitFor());
});

test('a backup downloads as its tar: streamed to an admin, refused to an app token, 404 for none', async () => {
  await page.goto(`${h.url}/#/apps/ops/backups`);
  await page.getByRole('button', { name: 'Back up now' }).click();
  await page.getByRole('cell', { name: 'manual' }).waitFor();
  const b = ((await h.api('GET', '/api/apps/ops/backups')).body.backups as any[]).find((x) => x.kind === 'manual');
  const [dl] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: `Download backup ${b.id}` }).click(),
  ]);
  const tar = await readFile(await dl.path());
  assert.equal(tar.length, b.size_bytes);
  // A ustar header names pb_data's files; the archive ends with its zero blocks.
  assert.ok(tar.toString('latin1').includes('pb_data/data.db'), 'pb_data/data.db is in it');
  assert.equal(tar.subarray(257, 262).toString('latin1'), 'ustar');
  const direct = await fetch(`${h.url}/api/apps/ops/backups/${b.id}/download`, {
    headers: { authorization: `Bearer ${h.token}` },
  });
  assert.equal(direct.status, 200);
  assert.equal(direct.headers.get('content-type'), 'application/x-tar');
  assert.match(
    direct.headers.get('content-disposition') ?? '',
    new RegExp(`^attachment; filename="ops-backup-${b.id}-`),
  );
  assert.ok(Buffer.from(await direct.arrayBuffer()).equals(tar), 'the same bytes both ways');
  const deploy = (await h.api('POST', '/api/tokens', { name: 'ops-ci', scope: 'app:ops:deploy' })).body.token;
  const asCi = await fetch(`${h.url}/api/apps/ops/backups/${b.id}/download`, {
    headers: { authorization: `Bearer ${deploy}` },
  });
  assert.equal(asCi.status, 403);
  // The app's manage token may take its backups away; an admin always may.
  const manage = (await h.api('POST', '/api/tokens', { name: 'ops-manager', scope: 'app:ops:manage' })).body.token;
  const asManager = await fetch(`${h.url}/api/apps/ops/backups/${b.id}/download`, {
    headers: { authorization: `Bearer ${manage}` },
  });
  assert.equal(asManager.status, 200);
  assert.ok(Buffer.from(await asManager.arrayBuffer()).equals(tar), 'the same bytes for the manage token');
  assert.equal((await fetch(`${h.url}/api/apps/ops/backups/${b.id}/download`)).status, 401);
  const none = await fetch(`${h.url}/api/apps/ops/backups/999999/download`, {
    headers: { authorization: `Bearer ${h.token}` },
  });
  assert.equal(none.status, 404);
  // Another app's backup is not reached through this one's name.
  const other = await fetch(`${h.url}/api/apps/formapp/backups/${b.id}/download`, {
    headers: { authorization: `Bearer ${h.token}` },
  });
  assert.equal(other.status, 404);
  await audit('05-backups', () => page.getByRole('cell', { name: 'manual' }).waitFor());
});

test('an app-scoped token sees only what its scope can use', async () => {
  const read = (await h.api('POST', '/api/tokens', { name: 'ops-viewer', scope: 'app:ops:read' })).body.token;
  const viewer = await signedInWithToken(read, 'token:ops-viewer (app:ops:read)');
  try {
    await viewer.getByRole('heading', { name: /ops/ }).waitFor();
    await viewer.locator('.facts').waitFor();
    const nav = viewer.getByRole('navigation', { name: 'Main' });
    for (const hidden of ['Host', 'Tokens', 'Alerts', 'Audit'])
      assert.equal(await nav.getByRole('link', { name: hidden }).count(), 0, `${hidden} is not offered`);
    for (const b of ['start', 'stop', 'restart'])
      assert.equal(await viewer.getByRole('button', { name: b, exact: true }).count(), 0, `${b} is not offered`);
    const tabs = viewer.getByRole('navigation', { name: 'App sections' });
    for (const t of ['deploy', 'env', 'settings'])
      assert.equal(await tabs.getByRole('link', { name: t, exact: true }).count(), 0, `the ${t} tab is not offered`);
    await audit('06-read-token', () => viewer.locator('.facts').waitFor(), viewer);
    await tabs.getByRole('link', { name: 'backups' }).click();
    await viewer.getByRole('cell', { name: 'manual' }).waitFor();
    for (const b of ['Back up now', 'Restore', 'Delete', 'Download'])
      assert.equal(await viewer.getByRole('button', { name: b }).count(), 0, `${b} is not offered`);
  } finally {
    await viewer.close();
  }
  const ci = (await h.api('POST', '/api/tokens', { name: 'ops-deployer', scope: 'app:ops:deploy' })).body.token;
  const deployer = await signedInWithToken(ci, 'token:ops-deployer (app:ops:deploy)');
  try {
    const tabs = deployer.getByRole('navigation', { name: 'App sections' });
    await tabs.getByRole('link', { name: 'deploy', exact: true }).waitFor();
    await tabs.getByRole('link', { name: 'backups' }).click();
    await deployer.getByRole('cell', { name: 'manual' }).waitFor();
    for (const b of ['Back up now', 'Restore', 'Download'])
      assert.equal(await deployer.getByRole('button', { name: b }).count(), 0, `${b} is not offered to deploy`);
  } finally {
    await deployer.close();
  }
  const mt = (await h.api('POST', '/api/tokens', { name: 'ops-owner', scope: 'app:ops:manage' })).body.token;
  const manager = await signedInWithToken(mt, 'token:ops-owner (app:ops:manage)');
  try {
    const nav = manager.getByRole('navigation', { name: 'Main' });
    await manager.getByRole('button', { name: 'restart', exact: true }).waitFor();
    assert.equal(await nav.getByRole('link', { name: 'Host' }).count(), 0, 'Host is not offered to manage');
    const tabs = manager.getByRole('navigation', { name: 'App sections' });
    await tabs.getByRole('link', { name: 'backups' }).click();
    await manager.getByRole('button', { name: 'Back up now' }).waitFor();
    await manager
      .getByRole('button', { name: /^Download backup / })
      .first()
      .waitFor();
  } finally {
    await manager.close();
  }
});
