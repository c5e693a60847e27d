import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { httpRequest } from '../support/http.js';
import { buildZip } from '../support/zip.js';

// Debian's chromium, never a downloaded browser.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts', 'ui');
const EMAIL = 'admin@example.com';
const PASSWORD = 'correct horse battery';

let h: PocketdHost;
let browser: Browser;
let page: Page;

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`the dashboard tests need Debian's chromium at ${CHROMIUM} (apt-get install chromium)`);
  await mkdir(ARTIFACTS, { recursive: true });
  h = await setupPocketdHost({ settings: { health_interval_seconds: '2', metrics_interval_seconds: '2' } });
  await h.sbx.run(['/usr/local/bin/pocketd', 'admin', 'create', '--email', EMAIL, '--password-stdin'], { input: `${PASSWORD}\n` });
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(30_000);
});
after(async () => {
  await browser?.close();
  await h?.stop();
});

const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

test('the dashboard is served at / with a strict CSP, and the API stays under /api', async () => {
  const res = await fetch(`${h.url}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const html = await res.text();
  assert.match(html, /<div id="root">/);
  assert.ok(!/https?:\/\//.test(html.replace(/<meta[^>]*>/g, '')), 'no external URL in the page');
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(asset);
  const js = await fetch(`${h.url}${asset}`);
  assert.match(js.headers.get('cache-control') ?? '', /immutable/);
  assert.equal((await fetch(`${h.url}/api/nope`)).status, 401);
  assert.equal((await fetch(`${h.url}/apps/deep/link`)).status, 200);
  assert.equal((await fetch(`${h.url}/assets/missing.js`)).status, 404);
});

test('a failed sign-in shows its message; the right password signs in', async () => {
  await page.goto(h.url);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password', { exact: true }).fill('wrong password!');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'email or password is wrong' }).waitFor();
  await shot('01-sign-in-failed');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Apps' }).waitFor();
  await page.getByText('No apps yet').waitFor();
  // The token is this origin's alone.
  assert.ok((await page.evaluate(() => localStorage.getItem('pocketd.token')))?.startsWith('pkd_'));
});

test('create an app: errors as you type next to the field, then steps until healthy', async () => {
  await page.getByRole('link', { name: 'New app' }).click();
  await page.getByLabel('Name').fill('Bad_Name');
  await page.locator('#name-error').waitFor();
  assert.match(await page.locator('#name-error').innerText(), /lowercase|letters|must/i);
  assert.equal(await page.getByRole('button', { name: 'Create' }).isDisabled(), true);
  await page.getByLabel('Name').fill('webapp');
  await page.getByLabel('Domains').fill('webapp.test');
  await page.locator('#name-error').waitFor({ state: 'detached' });
  await page.getByText(/Port \d+, PocketBase/).waitFor();
  await page.getByRole('button', { name: 'Create' }).click();
  await page.locator('progress').first().waitFor();
  await page.getByRole('link', { name: 'Open webapp' }).waitFor({ timeout: 60_000 });
  const steps = await page.locator('.step').allInnerTexts();
  assert.ok(steps.some((s) => /wait health/.test(s) && /success/.test(s)), steps.join('\n'));
  await shot('02-create-done');
});

test('the apps table shows live state, health and sparklines; restart from the app page', async () => {
  const asked: string[] = [];
  const onRequest = (r: { url(): string }) => asked.push(new URL(r.url()).pathname);
  page.on('request', onRequest);
  await page.getByRole('link', { name: 'Apps', exact: true }).click();
  const row = page.locator('tr[data-app=webapp]');
  await row.locator('[data-testid=state]').getByText('running').waitFor();
  await row.locator('[data-testid=health]').getByText('healthy').waitFor();
  await shot('03-apps');
  // Health and sparklines of all apps come in one request, not two per app.
  page.off('request', onRequest);
  assert.ok(asked.includes('/api/summary'), asked.join(' '));
  assert.deepEqual(asked.filter((p) => /^\/api\/apps\/[^/]+\/(metrics|health)$/.test(p)), []);
  // Live: a stop through the API shows up without a reload.
  await h.api('POST', '/api/apps/webapp/stop');
  await row.locator('[data-testid=state]').getByText('stopped').waitFor();
  await h.api('POST', '/api/apps/webapp/start');
  await row.locator('[data-testid=state]').getByText('running').waitFor();

  await row.getByRole('link', { name: 'webapp' }).click();
  await page.getByRole('heading', { name: /webapp/ }).waitFor();
  const pid = (await h.api('GET', '/api/apps/webapp')).body.runtime.main_pid;
  await page.getByRole('button', { name: 'restart' }).click();
  await page.getByRole('button', { name: 'restart' }).waitFor({ state: 'visible' });
  for (let i = 0; i < 100; i++) {
    const now = (await h.api('GET', '/api/apps/webapp')).body.runtime?.main_pid;
    if (now && now !== pid) break;
    await page.waitForTimeout(100);
  }
  assert.notEqual((await h.api('GET', '/api/apps/webapp')).body.runtime.main_pid, pid);
  await page.getByText('Memory:').waitFor();
  await shot('04-app-overview');
});

test('logs: read, follow a new line, filter by level and search', async () => {
  await page.getByRole('link', { name: 'logs' }).click();
  const box = page.getByRole('log');
  await box.getByText(/Server started at/).first().waitFor();
  const port = (await h.api('GET', '/api/apps/webapp')).body.port;
  const tag = `ui-follow-${Date.now()}`;
  await page.waitForTimeout(500);
  await fetch(`http://127.0.0.1:${port}/_standin/log?level=ERROR&msg=${tag}`);
  await box.getByText(tag).waitFor({ timeout: 5000 });
  await page.getByLabel('Minimum level').selectOption('error');
  await box.getByText(tag).waitFor();
  assert.equal(await box.getByText(/Server started at/).count(), 0);
  await page.getByLabel('Minimum level').selectOption('debug');
  await page.getByLabel('Search').fill(tag);
  assert.match(await page.getByTestId('log-count').innerText(), /^1 of \d+ lines$/);
  await page.getByLabel('Search').fill('');
  await shot('05-logs');
});

test('a log of 100 000 lines keeps only the visible rows in the page', async () => {
  const port = (await h.api('GET', '/api/apps/webapp')).body.port;
  await fetch(`http://127.0.0.1:${port}/_standin/spam?n=20000`);
  await page.waitForFunction(() => /^\d+ of (\d+) lines$/.exec(document.querySelector('[data-testid=log-count]')?.textContent ?? '')?.[1] !== undefined
    && Number(/of (\d+)/.exec(document.querySelector('[data-testid=log-count]')!.textContent!)![1]) > 15000, undefined, { timeout: 30_000 });
  const rows = await page.locator('.logline').count();
  assert.ok(rows < 200, `${rows} rows in the DOM`);
  // Still responsive: a filter answers at once.
  const t0 = Date.now();
  await page.getByLabel('Search').fill('spam 19999 ');
  await page.getByTestId('log-count').getByText(/^1 of/).waitFor();
  assert.ok(Date.now() - t0 < 5000);
  await page.getByLabel('Search').fill('');
});

test('deployments: the list opens one with its steps', async () => {
  await page.getByRole('link', { name: 'deployments' }).click();
  const first = page.getByRole('button', { name: /Open deployment \d+/ }).last();
  await first.click();
  await page.locator('.deployment .step').first().waitFor();
  const text = await page.locator('.deployment').innerText();
  assert.match(text, /create #\d+/);
  assert.match(text, /fetch release/);
  await shot('06-deployment');
});

test('host, tokens and audit pages', async () => {
  await page.getByRole('link', { name: 'Host' }).click();
  await page.getByText('privileged_helper').waitFor();
  assert.match(await page.getByTestId('version').innerText(), /^\d+\.\d+\.\d+/);
  await shot('07-host');
  await page.getByRole('link', { name: 'Tokens' }).click();
  await page.getByLabel('Name').fill('ci-webapp');
  await page.getByLabel('Scope').selectOption('app:webapp:deploy');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = await page.getByTestId('secret').innerText();
  assert.equal((await h.api('GET', '/api/apps/webapp', undefined, secret)).status, 200);
  await shot('08-tokens');
  await page.getByRole('link', { name: 'Audit' }).click();
  await page.getByText('POST /api/tokens').first().waitFor();
});

test('deploy, backups and env tabs: upload a bundle with progress and deploy it, back up, save a secret', async () => {
  await page.goto(`${h.url}/#/apps/webapp/deploy`);
  await page.getByLabel('Zip file').setInputFiles({ name: 'site.zip', mimeType: 'application/zip', buffer: buildZip([{ name: 'pb_public/index.html', data: '<h1>from the dashboard</h1>' }]) });
  await page.getByLabel('Notes').fill('ui upload');
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.getByText(/#1 .* ui upload/).waitFor();
  await page.getByRole('button', { name: 'Deploy' }).click();
  await page.locator('.deployment > .row').getByText('success').waitFor({ timeout: 60_000 });
  const served = await httpRequest(h.sbx.caddy.httpPort, '/', { host: 'webapp.test' });
  assert.equal(served.body, '<h1>from the dashboard</h1>');
  await shot('10-deploy');
  await page.getByRole('link', { name: 'backups' }).click();
  await page.getByRole('button', { name: 'Back up now' }).click();
  await page.getByRole('cell', { name: 'manual' }).waitFor();
  assert.ok((await page.getByRole('cell', { name: 'pre-deploy' }).count()) >= 1, 'the deploy took a snapshot');
  await page.getByRole('link', { name: 'env' }).click();
  await page.getByRole('button', { name: 'Add variable' }).click();
  await page.getByLabel('Key').last().fill('API_SECRET');
  await page.getByLabel('Value').last().fill('hunter2-secret');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').getByText('restart the app').waitFor();
  assert.equal(await page.getByLabel('Value').last().inputValue(), '********');
  assert.deepEqual((await h.api('GET', '/api/apps/webapp/env')).body.env, { API_SECRET: '********' });
});

test('the app page shows its queue: what runs now, what waits, with Cancel; a duplicate is not offered', async () => {
  await page.goto(`${h.url}/#/apps/webapp/overview`);
  await page.getByRole('heading', { name: /webapp/ }).waitFor();
  assert.equal(await page.getByRole('region', { name: 'Queue' }).count(), 0, 'no queue while nothing runs');
  // An upgrade whose health gate keeps waiting (0.20.9 answers 500), and a restart behind it.
  const up = await h.api('POST', '/api/apps/webapp/upgrade', { version: '0.20.9' });
  assert.equal(up.status, 202);
  const rs = await h.api('POST', '/api/apps/webapp/restart');
  assert.equal(rs.status, 202);
  assert.equal(rs.body.position, 1);
  const queue = page.getByRole('region', { name: 'Queue' });
  await queue.getByTestId('queue-item').filter({ hasText: 'upgrade' }).getByText('now').waitFor();
  await queue.getByTestId('queue-item').filter({ hasText: 'restart' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'restart', exact: true }).isDisabled(), true, 'a second restart would only queue a duplicate');
  assert.equal(await page.getByRole('button', { name: 'stop', exact: true }).isDisabled(), false);
  await shot('11-queue');
  await page.getByRole('button', { name: `Cancel restart #${rs.body.deployment_id}` }).click();
  await queue.getByTestId('queue-item').filter({ hasText: 'restart' }).waitFor({ state: 'detached' });
  assert.equal((await h.api('GET', `/api/deployments/${rs.body.deployment_id}`)).body.status, 'cancelled');
  await page.getByRole('button', { name: `Cancel upgrade #${up.body.deployment_id}` }).click();
  await queue.waitFor({ state: 'detached' });
  assert.equal((await h.waitDeployment(up.body.deployment_id)).status, 'cancelled');
  assert.equal(await page.getByRole('button', { name: 'restart', exact: true }).isDisabled(), false);
});

test('a phone-sized screen shows the apps without overflowing the page', async () => {
  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto(`${h.url}/#/apps`);
  await page.locator('tr[data-app=webapp]').waitFor();
  await shot('09-phone');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  const wide = await page.evaluate(() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > innerWidth + 1 && !e.parentElement?.closest('.table-wrap'))
    .slice(0, 5).map((e) => `${e.tagName}.${e.className}`));
  assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px: ${wide.join(', ')}`);
  await page.setViewportSize({ width: 1280, height: 860 });
});

test('delete with a typed confirmation; then sign out', async () => {
  await page.goto(`${h.url}/#/apps/webapp/settings`);
  const del = page.getByRole('button', { name: 'Delete app' });
  await del.waitFor();
  assert.equal(await del.isDisabled(), true);
  await page.getByLabel('Confirm the app name').fill('webapp');
  await del.click();
  await page.getByText('No apps yet').waitFor({ timeout: 60_000 });
  assert.equal((await h.api('GET', '/api/apps/webapp')).status, 404);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to pocketd' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('pocketd.token')), null);
});
