import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { auditSizes, createAdmin, launchChromium, openPage, signIn as signInAs } from '../support/browser.js';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';

// The dashboard's Deleted apps page (#31), in Debian's Chromium at desktop and phone sizes.
const ARTIFACTS = path.resolve('test-artifacts', 'archives-ui');
const EMAIL = 'ops@example.com';
const PASSWORD = 'correct horse battery';
const SECRET = 'ui-archived-secret-value';

let h: PocketdHost;
let browser: Browser;
let page: Page;

const signIn = (p: Page) => signInAs(p, h.url, EMAIL, PASSWORD);

before(async () => {
  h = await setupPocketdHost();
  await createAdmin(h, EMAIL, PASSWORD);
  const r = await h.api('POST', '/api/apps', { name: 'gone', domains: ['gone.test'], env: { API_SECRET: SECRET } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal((await h.waitDeployment(r.body.deployment_id)).status, 'success');
  const d = await h.api('DELETE', '/api/apps/gone');
  assert.equal((await h.waitDeployment(d.body.deployment_id)).status, 'success');
  browser = await launchChromium(ARTIFACTS);
  page = await openPage(browser);
  await signIn(page);
});
after(async () => {
  await browser?.close();
  await h?.stop();
});

const table = () => page.getByRole('region', { name: 'Deleted apps table' });

test('Deleted apps: listed without an env value; a taken domain is named; restored under a new name; deleted for good', async () => {
  await page.getByRole('link', { name: 'Deleted apps' }).click();
  await table().getByRole('cell', { name: 'gone', exact: true }).waitFor();
  assert.ok(!(await page.content()).includes(SECRET), 'an env value on the page');
  await table().getByText('API_SECRET').waitFor();
  await auditSizes(page, ARTIFACTS, 'deleted-apps', () => table().waitFor());
  // A live app now holds the old domain: the form says so, naming it.
  const other = await h.api('POST', '/api/apps', { name: 'taker', domains: ['gone.test'] });
  assert.equal((await h.waitDeployment(other.body.deployment_id)).status, 'success');
  await table().getByRole('button', { name: 'Restore…' }).click();
  const form = page.getByRole('form', { name: 'Restore gone' });
  await form.getByLabel("New app's name").fill('back-ui');
  await form.getByRole('button', { name: 'Restore' }).click();
  await form
    .getByRole('alert')
    .getByText(/gone\.test/)
    .waitFor();
  assert.equal((await h.api('GET', '/api/apps/back-ui')).status, 404);
  await form.getByLabel(/Domains/).fill('back-ui.test');
  await auditSizes(page, ARTIFACTS, 'restore-form', () => form.waitFor());
  await form.getByRole('button', { name: 'Restore' }).click();
  await page.getByRole('link', { name: 'Open back-ui' }).waitFor();
  // Until the restore has ended the archive is being read, and a delete of it is refused (409).
  const restoring = (await h.api('GET', '/api/deployments?app=back-ui')).body.deployments[0];
  assert.equal((await h.waitDeployment(restoring.id)).status, 'success');
  const app = await h.api('GET', '/api/apps/back-ui');
  assert.equal(app.status, 200);
  assert.deepEqual(app.body.domains, ['back-ui.test']);
  // Delete the archive for good (asked once more).
  await table().getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await page.getByRole('status').getByText('The archive of gone was deleted.').waitFor();
  assert.deepEqual((await h.api('GET', '/api/archives')).body.archives, []);
});

test('an app-scoped token is not offered Deleted apps (and the API refuses it)', async () => {
  const t = (await h.api('POST', '/api/tokens', { name: 'viewer', scope: 'app:back-ui:manage' })).body.token;
  const p = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  p.setDefaultTimeout(30_000);
  try {
    await p.goto(h.url);
    await p.getByText('Use an API token instead').click();
    await p.getByLabel('Token').fill(t);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByText('token:viewer (app:back-ui:manage)').waitFor();
    const nav = p.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'back-ui' }).waitFor();
    assert.equal(await nav.getByRole('link', { name: 'Deleted apps' }).count(), 0);
    assert.equal((await h.api('GET', '/api/archives', undefined, t)).status, 403);
  } finally {
    await p.close();
  }
});
