import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { axeOn, auditSizes, createAdmin, launchChromium, openPage, PHONE } from '../support/browser.js';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { httpRequest } from '../support/http.js';
import { buildZip } from '../support/zip.js';
import { seedApp } from '../support/pb-app.js';
import { PB_LATEST, PB_OLD, PB_PREV } from '../support/pocketbase.js';
import { STANDIN } from '../support/release-mirror.js';

// Debian's chromium, never a downloaded browser.
const ARTIFACTS = path.resolve('test-artifacts', 'ui');
const EMAIL = 'admin@example.com';
const PASSWORD = 'correct horse battery';

let h: PocketdHost;
let browser: Browser;
let page: Page;

before(async () => {
  h = await setupPocketdHost({ settings: { health_interval_seconds: '2', metrics_interval_seconds: '2' } });
  await createAdmin(h, EMAIL, PASSWORD);
  browser = await launchChromium(ARTIFACTS);
  page = await openPage(browser);
});
after(async () => {
  await browser?.close();
  await h?.stop();
});

const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

const axeViolations = () => axeOn(page);
/** A second page, signed in by pasting a token; waits until the header names it as `who`. */
async function signedInWithToken(token: string, who: string): Promise<Page> {
  const other = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await other.goto(h.url);
  await other.getByText('Use an API token instead').click();
  await other.getByLabel('Token').fill(token);
  await other.getByRole('button', { name: 'Sign in' }).click();
  await other.getByText(who).waitFor();
  return other;
}
/** Every page at desktop and phone sizes: a screenshot of each, and axe finds nothing. */
const auditPage = (name: string, ready: () => Promise<unknown>) => auditSizes(page, ARTIFACTS, name, ready);

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

test('signing in with a pasted API token shows the token, not its maker; signing out leaves the token working', async () => {
  const ci = (await h.api('POST', '/api/tokens', { name: 'ci-pasted', scope: 'admin' })).body.token as string;
  const other = await signedInWithToken(ci, 'token:ci-pasted (admin)');
  try {
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.getByRole('heading', { name: 'Sign in to pocketd' }).waitFor();
    assert.equal((await h.api('GET', '/api/auth/me', undefined, ci)).status, 200, 'the CI token still works');
  } finally {
    await other.close();
  }
});

test('create an app: errors as you type next to the field, then steps until healthy', async () => {
  await page.getByRole('link', { name: 'New app' }).click();
  await page.getByLabel('Name').fill('Bad_Name');
  await page.locator('#name-error').waitFor();
  assert.match(await page.locator('#name-error').innerText(), /lowercase|letters|must/i);
  assert.equal(await page.getByRole('button', { name: 'Create' }).isDisabled(), true);
  assert.equal(await page.getByLabel('Name').getAttribute('aria-describedby'), 'name-error');
  await page.getByLabel('Name').fill('webapp');
  await page.getByLabel('Domains', { exact: true }).fill('webapp.test');
  await page.locator('#name-error').waitFor({ state: 'detached' });
  assert.equal(
    await page.getByLabel('Domains', { exact: true }).getAttribute('aria-describedby'),
    null,
    'no pointer to a message that is not there',
  );
  await auditPage('12-create', () => page.getByText(/Port \d+, PocketBase/).waitFor());
  // The check can fail: an image without a text alternative is found.
  await page.evaluate(() => {
    const i = document.createElement('img');
    i.id = 'axe-probe';
    document.body.append(i);
  });
  assert.ok((await axeViolations()).some((v) => v.startsWith('image-alt')));
  await page.evaluate(() => document.getElementById('axe-probe')?.remove());
  await page.getByText(/Port \d+, PocketBase/).waitFor();
  // The deployment is followed through the events stream, not read again and again.
  const reads: string[] = [];
  const onRequest = (r: { url(): string }) => {
    if (/^\/api\/deployments\/\d+$/.test(new URL(r.url()).pathname)) reads.push(r.url());
  };
  page.on('request', onRequest);
  await page.getByRole('button', { name: 'Create' }).click();
  await page.locator('progress').first().waitFor();
  await page.getByRole('link', { name: 'Open webapp' }).waitFor({ timeout: 60_000 });
  page.off('request', onRequest);
  const steps = await page.locator('.step').allInnerTexts();
  assert.ok(
    steps.some((s) => /wait health/.test(s) && /success/.test(s)),
    steps.join('\n'),
  );
  // Each step of a create, in order, as the deployment names them.
  assert.deepEqual(
    steps.map((s) => s.split('\n')[0]),
    ['validate', 'fetch release', 'install', 'wait health', 'create superuser', 'finish'],
    steps.join('\n'),
  );
  assert.ok(
    steps.every((s) => /success|skipped/.test(s)),
    `every step as the events said: ${steps.join(' | ')}`,
  );
  // At most: the first read, one at the stream's open, one when it started, one when it ended.
  assert.ok(reads.length <= 4, `${reads.length} reads of the deployment: ${reads.join(' ')}`);
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
  // Search and filter.
  await page.getByLabel('Search').fill('nomatch');
  await page.getByText('No app matches.').waitFor();
  await page.getByLabel('Search').fill('webapp.te');
  await row.waitFor();
  await page.getByLabel('Show').selectOption('stopped');
  await page.getByText('No app matches.').waitFor();
  await page.getByLabel('Show').selectOption('all');
  await page.getByLabel('Search').fill('');
  await auditPage('03-apps', () => row.locator('[data-testid=health]').getByText('healthy').waitFor());
  // Health and sparklines of all apps come in one request, not two per app.
  page.off('request', onRequest);
  assert.ok(asked.includes('/api/summary'), asked.join(' '));
  assert.deepEqual(
    asked.filter((p) => /^\/api\/apps\/[^/]+\/(metrics|health)$/.test(p)),
    [],
  );
  // Live: a stop through the API shows up without a reload.
  await h.api('POST', '/api/apps/webapp/stop');
  await row.locator('[data-testid=state]').getByText('stopped').waitFor();
  await h.api('POST', '/api/apps/webapp/start');
  await row.locator('[data-testid=state]').getByText('running').waitFor();

  await row.getByRole('link', { name: 'webapp' }).click();
  await page.getByRole('heading', { name: /webapp/ }).waitFor();
  const pid = (await h.api('GET', '/api/apps/webapp')).body.runtime.main_pid;
  // Exact: while the restart is slow to run, its queue row's "Cancel restart #n" would match too.
  await page.getByRole('button', { name: 'restart', exact: true }).click();
  await page.getByRole('button', { name: 'restart', exact: true }).waitFor({ state: 'visible' });
  for (let i = 0; i < 100; i++) {
    const now = (await h.api('GET', '/api/apps/webapp')).body.runtime?.main_pid;
    if (now && now !== pid) break;
    await page.waitForTimeout(100);
  }
  assert.notEqual((await h.api('GET', '/api/apps/webapp')).body.runtime.main_pid, pid);
  await page.getByText('Memory:').waitFor();
  await shot('04-app-overview');
  // Start on a running app would do nothing: it is off.
  assert.equal(await page.getByRole('button', { name: 'start', exact: true }).isDisabled(), true);
  await page.locator('.facts').getByText('in sync').waitFor();
  assert.match(await page.locator('.facts').innerText(), /CPU quota\s+no limit/);
  // Charts: a time axis and the figure beside each the same as its last point.
  await page.locator('.chart canvas').first().waitFor();
  // The figure is the last point of what the chart drew: the samples the page itself was sent.
  const [metricsRes] = await Promise.all([
    page.waitForResponse((r) => /\/api\/apps\/webapp\/metrics/.test(r.url())),
    page.getByRole('button', { name: '24 h' }).click(),
  ]);
  const drawn = (await metricsRes.json()).samples as any[];
  const lastMem = [...drawn].reverse().find((x) => x.memory_bytes !== null)?.memory_bytes as number | undefined;
  await page.waitForTimeout(100);
  const caption = await page
    .locator('figure.chart')
    .filter({ hasText: 'Memory:' })
    .getByTestId('chart-last')
    .innerText();
  if (lastMem === undefined) assert.equal(caption, '—');
  else {
    const [, num, unit] = /^([\d.]+) (B|KiB|MiB|GiB)$/.exec(caption) ?? [];
    const shown = Number(num) * 1024 ** ['B', 'KiB', 'MiB', 'GiB'].indexOf(unit ?? '');
    assert.ok(Math.abs(shown - lastMem) <= lastMem * 0.06, `chart says ${caption}, last sample ${lastMem}`);
  }
  assert.equal(await page.getByRole('button', { name: '24 h' }).getAttribute('aria-pressed'), 'true');
  // The scheme and port Caddy really serves (plain HTTP on the sandbox's port), not a dead https:// link.
  await page.getByRole('link', { name: /Open PocketBase admin \(webapp\.test:\d+\/_\/\)/ }).waitFor();
  assert.equal(
    await page.getByRole('link', { name: /Open PocketBase admin/ }).getAttribute('href'),
    `http://webapp.test:${h.sbx.caddy.httpPort}/_/`,
  );
  await auditPage('04-app-overview', () => page.locator('.chart canvas').first().waitFor());
});

test('logs: read, follow a new line, filter by level and search', async () => {
  // The test hooks (print) in the real PocketBase; the restart also prints its start-up lines again.
  await seedApp(h, 'webapp');
  await page.getByRole('link', { name: 'logs' }).click();
  const box = page.getByRole('log');
  await box
    .getByText(/Server started at/)
    .first()
    .waitFor();
  const port = (await h.api('GET', '/api/apps/webapp')).body.port;
  const tag = `ui-follow-${Date.now()}`;
  await page.waitForTimeout(500);
  // PocketBase prints no level word; the app's own hook says ERROR, on stderr.
  await fetch(`http://127.0.0.1:${port}/_test/print?stream=err&msg=${encodeURIComponent(`ERROR ${tag}`)}`);
  await box.getByText(tag).waitFor({ timeout: 5000 });
  await page.getByLabel('Minimum level').selectOption('error');
  await box.getByText(tag).waitFor();
  assert.equal(await box.getByText(/Server started at/).count(), 0);
  await page.getByLabel('Minimum level').selectOption('debug');
  await page.getByLabel('Search').fill(tag);
  assert.match(await page.getByTestId('log-count').innerText(), /^1 of \d+ lines$/);
  await page.getByLabel('Search').fill('');
  await shot('05-logs');
  // One timestamp a line, with its date.
  const line = await box.locator('.logline').filter({ hasText: tag }).first().innerText();
  assert.match(line, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} error /, line);
  assert.equal((line.match(/\d{2}:\d{2}:\d{2}/g) ?? []).length, 1, `one time in: ${line}`);
  // Download of a time range, as NDJSON and as text.
  const [ndjson] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'NDJSON' }).click(),
  ]);
  const entries = (await readFile(await ndjson.path(), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(entries.some((e) => String(e.message).includes(tag)));
  const [text] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Text' }).click()]);
  assert.match(await readFile(await text.path(), 'utf8'), new RegExp(`\\d{2}:\\d{2}:\\d{2} ERROR ${tag}`));
  await auditPage('05-logs', () => box.getByText(tag).waitFor());
});

test('a log of 100 000 lines keeps only the visible rows in the page', async () => {
  const port = (await h.api('GET', '/api/apps/webapp')).body.port;
  assert.equal((await fetch(`http://127.0.0.1:${port}/_test/print?msg=spam&n=20000`)).status, 200);
  await page.waitForFunction(
    () =>
      /^\d+ of (\d+) lines$/.exec(document.querySelector('[data-testid=log-count]')?.textContent ?? '')?.[1] !==
        undefined &&
      Number(/of (\d+)/.exec(document.querySelector('[data-testid=log-count]')!.textContent!)![1]) > 15000,
    undefined,
    { timeout: 30_000 },
  );
  const rows = await page.locator('.logline').count();
  assert.ok(rows < 200, `${rows} rows in the DOM`);
  // Still responsive: a filter answers at once.
  const t0 = Date.now();
  await page.getByLabel('Search').fill('spam 19999');
  await page.getByTestId('log-count').getByText(/^1 of/).waitFor();
  assert.ok(Date.now() - t0 < 5000);
  await page.getByLabel('Search').fill('');
  // Once the whole log is back (and followed to its end), the reader scrolls up.
  await page.waitForFunction(() => {
    const el = document.querySelector('[role=log]');
    return el !== null && el.scrollHeight > el.clientHeight * 2 && el.scrollTop > 0;
  });
  // Scrolled up, following pauses and says so; new lines do not move the reader.
  await page.getByRole('log').evaluate((el) => {
    el.scrollTop = 0;
    el.dispatchEvent(new Event('scroll'));
  });
  await page.getByText(/Following is paused while you read/).waitFor();
  // (No new line is asked for here: journald's rate limit may drop it right after the 20 000-line burst.)
  await page.waitForTimeout(500);
  assert.equal(await page.getByRole('log').evaluate((el) => el.scrollTop), 0, 'the reader is not moved');
  await page.getByRole('button', { name: 'Jump to newest' }).click();
  await page.getByText(/Following is paused/).waitFor({ state: 'detached' });
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
  await auditPage('06-deployments', () => page.locator('.deployment .step').first().waitFor());
});

test('host, tokens and audit pages', async () => {
  await page.getByRole('link', { name: 'Host' }).click();
  await page.getByText('privileged_helper').waitFor();
  assert.match(await page.getByTestId('version').innerText(), /^\d+\.\d+\.\d+/);
  const facts = await page.locator('.facts').innerText();
  assert.match(facts, /free of [\d.]+ \w+ \(\d+% free\)/);
  assert.doesNotMatch(facts, /Host up\s+0 h\b/);
  await shot('07-host');
  await auditPage('07-host', () => page.getByText('privileged_helper').waitFor());
  await page.getByRole('link', { name: 'Tokens' }).click();
  await page.getByLabel('Name').fill('ci-webapp');
  await page.getByLabel('Scope').selectOption('app:webapp:deploy');
  await page.getByLabel('Expires in').selectOption('7');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = await page.getByTestId('secret').innerText();
  assert.equal((await h.api('GET', '/api/apps/webapp', undefined, secret)).status, 200);
  const made = ((await h.api('GET', '/api/tokens')).body.tokens as any[]).find((t) => t.name === 'ci-webapp');
  const days = (Date.parse(made.expires_at) - Date.now()) / 86_400_000;
  assert.ok(days > 6.9 && days < 7.1, `expires in ${days} days`);
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.getByText(/Copied\.|Selected: press Ctrl\+C/).waitFor();
  await shot('08-tokens');
  await auditPage('08-tokens', () => page.getByTestId('secret').waitFor());
  // Revoke asks first; No keeps the token.
  const tokenRow = page.locator('tr').filter({ hasText: 'ci-pasted' });
  await tokenRow.getByRole('button', { name: 'Revoke' }).click();
  await tokenRow.getByRole('button', { name: 'No' }).click();
  assert.ok(((await h.api('GET', '/api/tokens')).body.tokens as any[]).some((t) => t.name === 'ci-pasted'));
  await page.getByRole('link', { name: 'Audit' }).click();
  await page.getByText('POST /api/tokens').first().waitFor();
  // Filtered by actor: only what the dashboard's user did, with the request's fields.
  await page.getByLabel('Actor').fill(EMAIL);
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.locator('tbody tr').filter({ hasText: 'token:tests' }).first().waitFor({ state: 'detached' });
  await page.locator('tbody tr').filter({ hasText: 'ci-webapp' }).waitFor();
  const actors = await page.locator('tbody tr td:nth-child(2)').allInnerTexts();
  assert.ok(actors.length > 0 && actors.every((a) => a === EMAIL), actors.join(', '));
  assert.match(
    await page.locator('tbody tr').filter({ hasText: 'ci-webapp' }).innerText(),
    /"scope":"app:webapp:deploy"/,
  );
  await auditPage('13-audit', () => page.locator('tbody tr').first().waitFor());
});

test('alerts page: add a webhook channel (its secret shown once), a rule, and send a test', async () => {
  const hits: string[] = [];
  const receiver = (await import('node:http')).createServer((req, res) => {
    hits.push(String(req.headers['x-pocketd-signature'] ?? ''));
    res.end('ok');
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  try {
    await page.goto(`${h.url}/#/alerts`);
    await page.getByText('No channel yet').waitFor();
    await page.getByLabel('Channel name').fill('ops-hook');
    await page
      .getByLabel('Webhook URL')
      .fill(`http://127.0.0.1:${(receiver.address() as import('node:net').AddressInfo).port}/hook`);
    await page.getByRole('button', { name: 'Add channel' }).click();
    await page.getByText(/Signing secret, shown once/).waitFor();
    // The channel came with its default rules: it is not silent until a rule is made.
    await page.getByText('app_down, deployment_failed, backup_failed, disk_low for every app to').waitFor();
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page
      .locator('li')
      .filter({ hasText: /^app_down for every app to/ })
      .waitFor();
    await page.getByRole('button', { name: 'Send a test' }).click();
    await page.getByText('A test message went to ops-hook.').waitFor();
    assert.equal(hits.length, 1);
    assert.match(hits[0]!, /^sha256=[0-9a-f]{64}$/);
    await auditPage('20-alerts', () => page.getByText('ops-hook').first().waitFor());
  } finally {
    receiver.close();
  }
});

test('the API reference is a page of the dashboard, from the OpenAPI document, under the same CSP', async () => {
  const r = await fetch(`${h.url}/docs`, { redirect: 'manual' });
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), '/#/docs');
  await page.goto(`${h.url}/#/docs`);
  await page.getByRole('heading', { name: 'API reference' }).waitFor();
  await page.getByText('postAppsByNameUpgrade').count();
  await page.getByLabel('Find').fill('upgrade');
  await page.locator('details.op').filter({ hasText: '/api/apps/{name}/upgrade' }).first().click();
  await page.getByText('operationId postAppsByNameUpgrade').waitFor();
  await auditPage('14-api-reference', () => page.getByRole('heading', { name: 'API reference' }).waitFor());
});

test('dark mode follows the system, and the toggle is remembered', async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`${h.url}/#/apps`);
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.getByRole('heading', { name: 'Apps' }).waitFor();
  assert.equal(await bg(), 'rgb(18, 20, 23)');
  await auditPage('15-apps-dark', () => page.locator('tr[data-app=webapp]').waitFor());
  await page.getByRole('button', { name: /^Theme: system/ }).click();
  assert.equal(await bg(), 'rgb(247, 247, 248)');
  await page.reload();
  await page.getByRole('button', { name: /^Theme: light/ }).waitFor();
  assert.equal(await bg(), 'rgb(247, 247, 248)', 'light stays chosen after a reload');
  await page.getByRole('button', { name: /^Theme: light/ }).click();
  await page.getByRole('button', { name: /^Theme: dark/ }).click();
  await page.emulateMedia({ colorScheme: 'light' });
});

test('deploy, backups and env tabs: upload a bundle with progress and deploy it, back up, save a secret', async () => {
  await page.goto(`${h.url}/#/apps/webapp/deploy`);
  await page.getByLabel('Zip file').setInputFiles({
    name: 'site.zip',
    mimeType: 'application/zip',
    buffer: buildZip([{ name: 'pb_public/index.html', data: '<h1>from the dashboard</h1>' }]),
  });
  await page.getByLabel('Notes').fill('ui upload');
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.getByText(/#1 .* ui upload/).waitFor();
  // After an upload the form is empty again and says what happened.
  await page.getByText(/Uploaded bundle #1/).waitFor();
  assert.equal(await page.getByLabel('Notes').inputValue(), '');
  assert.equal(await page.getByLabel('Zip file').inputValue(), '');
  await page.getByRole('button', { name: 'Deploy' }).click();
  // While it runs there is Cancel and no Done; Done comes at the end.
  await page.locator('.deployment > .row').getByText('success').waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Done' }).waitFor();
  const served = await httpRequest(h.sbx.caddy.httpPort, '/', { host: 'webapp.test' });
  assert.equal(served.body, '<h1>from the dashboard</h1>');
  await shot('10-deploy');
  await page.getByRole('button', { name: 'Done' }).click();
  // Upgrade from the picker: afterwards the picker shows the version now run and Upgrade is off until a new choice.
  const before = (await h.api('GET', '/api/apps/webapp')).body.version;
  // Within the 0.23+ line, which PocketBase reads both ways.
  const target = before === PB_LATEST ? PB_PREV : PB_LATEST;
  // Choosing a release shows what the move crosses before anything is started: going back to 0.22 is a
  // downgrade across 0.23, each breaking release named, and pocketd's refusal said.
  await page.getByLabel('Version').selectOption(PB_OLD);
  const warnings = page.getByLabel('Upgrade warnings');
  await warnings.getByText(`Downgrade: PocketBase ${PB_OLD} is older than ${before}`).waitFor();
  await warnings.getByText(/Breaking release 0\.23\.0 undone: admins become _superusers/).waitFor();
  await warnings.getByText(/cannot read the data .* roll back with the data instead/).waitFor();
  await page.getByLabel('Version').selectOption(target);
  await page.getByText(`No breaking release between ${before} and ${target}.`).waitFor();
  await page.getByText(/Release notes of 1 release between/).click();
  const newer = before === PB_LATEST ? PB_LATEST : target;
  await page.getByLabel(`Notes of ${newer}`).getByText(`pocketd-test-marker-${newer}`).waitFor();
  if (target === PB_PREV) {
    // An older release is a downgrade: said so, and sent (allow_downgrade) only once ticked.
    await page.getByRole('alert').filter({ hasText: 'this is a downgrade' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Downgrade' }).isDisabled(), true);
    await page.getByLabel('Downgrade anyway').check();
    await page.getByRole('button', { name: 'Downgrade' }).click();
  } else await page.getByRole('button', { name: 'Upgrade' }).click();
  await page
    .locator('.deployment > .row')
    .filter({ hasText: 'upgrade' })
    .getByText('success')
    .waitFor({ timeout: 60_000 });
  await page.getByText(`Now on ${target}.`).waitFor();
  assert.equal(await page.getByLabel('Version').inputValue(), target, 'the picker is not blank after an upgrade');
  assert.match(await page.getByLabel('Version').locator('option:checked').innerText(), /\(current\)/);
  assert.equal(await page.getByRole('button', { name: 'Upgrade' }).isDisabled(), true);
  // Rollback rows say where they return to, with a choice of the data.
  const rollback = page.locator('li').filter({ hasText: /^#\d+ deploy: PocketBase [\d.]+, bundle #1/ });
  await rollback.first().waitFor();
  await page.getByLabel(/Also put the data back/).waitFor();
  await auditPage('10-deploy', () => rollback.first().waitFor());
  await page.getByRole('link', { name: 'backups' }).click();
  await page.getByRole('button', { name: 'Back up now' }).click();
  await page.getByRole('cell', { name: 'manual' }).waitFor();
  assert.ok((await page.getByRole('cell', { name: 'pre-deploy' }).count()) >= 1, 'the deploy took a snapshot');
  // Restore asks first (in the page, no native dialog); Restore and Delete sit on one line.
  const backupRow = page.locator('tr').filter({ hasText: 'manual' }).first();
  const [restoreBox, deleteBox] = [
    await backupRow.getByRole('button', { name: 'Restore' }).boundingBox(),
    await backupRow.getByRole('button', { name: 'Delete' }).boundingBox(),
  ];
  assert.ok(
    restoreBox && deleteBox && Math.abs(restoreBox.y - deleteBox.y) <= 2,
    `Restore at ${restoreBox?.y}, Delete at ${deleteBox?.y}`,
  );
  await backupRow.getByRole('button', { name: 'Restore' }).click();
  await backupRow.getByText(/Replace the app's data with backup \d+\?/).waitFor();
  await backupRow.getByRole('button', { name: 'No' }).click();
  await auditPage('16-backups', () => page.getByRole('cell', { name: 'manual' }).waitFor());
  await page.getByRole('link', { name: 'env' }).click();
  await page.getByRole('button', { name: 'Add variable' }).click();
  await page.getByLabel('Key').last().fill('API_SECRET');
  await page.getByLabel('Value').last().fill('hunter2-secret');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').getByText('restart the app').waitFor();
  assert.equal(await page.getByLabel('Value').last().inputValue(), '********');
  assert.deepEqual((await h.api('GET', '/api/apps/webapp/env')).body.env, { API_SECRET: '********' });
  // A bad key names the rule; a row can be removed; leaving with unsaved rows asks first.
  await page.getByRole('button', { name: 'Add variable' }).click();
  await page.getByLabel('Key').last().fill('9LIVES');
  await page.getByText('9LIVES: keys must be letters, digits and _, not starting with a digit').waitFor();
  await page.getByText('Unsaved changes').waitFor();
  // Asked in the page (no native confirm()): Stay keeps the editor.
  const native: string[] = [];
  const onDialog = (d: import('playwright-core').Dialog) => {
    native.push(d.type());
    void d.dismiss();
  };
  page.on('dialog', onDialog);
  await page.getByRole('link', { name: 'overview' }).click();
  const leave = page.getByRole('alertdialog', { name: 'Unsaved changes' });
  await leave.waitFor();
  await auditPage('17-env-leave', () => leave.waitFor());
  await leave.getByRole('button', { name: 'Stay' }).click();
  await leave.waitFor({ state: 'detached' });
  page.off('dialog', onDialog);
  assert.deepEqual(native, [], 'no native dialog');
  assert.match(page.url(), /#\/apps\/webapp\/env$/, 'still on the env tab after saying no');
  await page.getByRole('button', { name: 'Remove 9LIVES' }).click();
  await page.getByText('Unsaved changes').waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Remove API_SECRET' }).click();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').getByText(/Saved/).waitFor();
  assert.deepEqual((await h.api('GET', '/api/apps/webapp/env')).body.env, {});
  await auditPage('17-env', () => page.getByRole('button', { name: 'Add variable' }).waitFor());
});

test('create with env and a superuser from the form; set the superuser again from the app page', async () => {
  await page.goto(`${h.url}/#/new`);
  await page.getByLabel('Name').fill('second');
  await page.getByLabel('Environment').fill('APP_MODE=production\n1BAD=x');
  await page
    .locator('#env-error')
    .getByText(/1BAD.*keys must be letters/)
    .waitFor();
  await page.getByLabel('Environment').fill('APP_MODE=production');
  await page.getByLabel('Email', { exact: true }).fill('owner@example.com');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.locator('#superuser-error').waitFor();
  await page.getByLabel('Password', { exact: true }).fill('a long enough password');
  await page.locator('#superuser-error').waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('link', { name: 'Open second' }).waitFor({ timeout: 60_000 });
  assert.match(await page.locator('.deployment').innerText(), /create superuser\s+success/);
  assert.deepEqual((await h.api('GET', '/api/apps/second/env')).body.env, { APP_MODE: 'production' });
  await page.getByRole('link', { name: 'Open second' }).click();
  await page.getByRole('link', { name: 'settings' }).click();
  await page.getByLabel('Superuser email').fill('owner@example.com');
  await page.getByLabel('New password').fill('another long password');
  await page.getByRole('button', { name: 'Set superuser' }).click();
  await page.getByText('Superuser owner@example.com is set; sign in at /_/.').waitFor({ timeout: 30_000 });
  const port = (await h.api('GET', '/api/apps/second')).body.port;
  const auth = await fetch(`http://127.0.0.1:${port}/api/collections/_superusers/auth-with-password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identity: 'owner@example.com', password: 'another long password' }),
  });
  assert.equal(auth.status, 200, 'the new password signs in to PocketBase');
  // The delete confirmation reads on one line.
  const label = await page.locator('.confirm-name span').first().boundingBox();
  assert.ok(label && label.height < 30, `the confirmation label is ${label?.height}px tall`);
  await auditPage('18-settings', () => page.getByRole('button', { name: 'Set superuser' }).waitFor());
  assert.equal((await h.api('DELETE', '/api/apps/second?purge=true')).body.status, 'success');
});

test('the app page shows its queue: what runs now, what waits, with Cancel; a duplicate is not offered', async () => {
  await page.goto(`${h.url}/#/apps/webapp/overview`);
  await page.getByRole('heading', { name: /webapp/ }).waitFor();
  const regions = page.getByRole('region', { name: 'Queue', exact: true });
  assert.equal(await regions.count(), 0, `no queue while nothing runs: ${await regions.allInnerTexts()}`);
  // An upgrade whose health gate keeps waiting (the stand-in release that answers 500), and a restart behind it.
  const up = await h.api('POST', '/api/apps/webapp/upgrade', {
    version: STANDIN.unhealthy,
    trial: false,
    allow_downgrade: true,
  });
  assert.equal(up.status, 202);
  const rs = await h.api('POST', '/api/apps/webapp/restart');
  assert.equal(rs.status, 202);
  assert.equal(rs.body.position, 1);
  const queue = page.getByRole('region', { name: 'Queue', exact: true });
  await queue.getByTestId('queue-item').filter({ hasText: 'upgrade' }).getByText('now').waitFor();
  await queue.getByTestId('queue-item').filter({ hasText: 'restart' }).waitFor();
  assert.equal(
    await page.getByRole('button', { name: 'restart', exact: true }).isDisabled(),
    true,
    'a second restart would only queue a duplicate',
  );
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

test('a token for one app lands on that app, not on a page it may not read', async () => {
  const read = (await h.api('POST', '/api/tokens', { name: 'reader', scope: 'app:webapp:read' })).body.token as string;
  const other = await signedInWithToken(read, 'token:reader (app:webapp:read)');
  try {
    await other.getByRole('heading', { name: /webapp/ }).waitFor();
    await other.locator('.facts').waitFor();
    assert.equal(await other.getByText('FORBIDDEN').count(), 0);
  } finally {
    await other.close();
  }
});

test('a phone-sized screen shows the apps without overflowing the page; tabs and actions stay in view', async () => {
  await page.setViewportSize(PHONE);
  await page.goto(`${h.url}/#/apps`);
  await page.locator('tr[data-app=webapp]').waitFor();
  await shot('09-phone');
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > innerWidth + 1 && !e.parentElement?.closest('.table-wrap'))
      .slice(0, 5)
      .map((e) => `${e.tagName}.${e.className}`),
  );
  assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px: ${wide.join(', ')}`);
  const restart = await page.getByRole('button', { name: 'restart webapp' }).boundingBox();
  assert.ok(restart && restart.x + restart.width <= PHONE.width, "the row's actions are on screen");
  await page.goto(`${h.url}/#/apps/webapp/overview`);
  for (const tab of ['env', 'settings']) {
    const box = await page.getByRole('link', { name: tab, exact: true }).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width, `the ${tab} tab is on screen`);
  }
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
  await page.getByText('webapp was deleted; its data is archived.').waitFor();
  assert.equal((await h.api('GET', '/api/apps/webapp')).status, 404);
  // No dead ends: a deleted app's page, an unknown page.
  await page.goto(`${h.url}/#/apps/webapp/overview`);
  await page.getByText('There is no app named webapp').waitFor();
  assert.equal(await page.getByText('Loading…').count(), 0);
  await page.goto(`${h.url}/#/nowhere`);
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await auditPage('19-not-found', () => page.getByRole('heading', { name: 'Page not found' }).waitFor());
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to pocketd' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('pocketd.token')), null);
});
