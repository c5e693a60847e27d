import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Browser, type Page } from 'playwright-core';
import { auditSizes, createAdmin, launchChromium, openPage, submitSignIn } from '../support/browser.js';
import { setupPocketdHost, type PocketdHost } from '../support/host.js';
import { base32Decode, hotp, stepAt } from '../../src/core/auth/totp.js';

// Admins in the dashboard and their two-factor sign-in (#31), in Debian's Chromium at desktop and phone sizes,
// against pocketd installed as its service in the sandbox (the store, its key file, the command line on the host).
const ARTIFACTS = path.resolve('test-artifacts', 'admins-ui');
const EMAIL = 'boss@example.com';
const PASSWORD = 'correct horse battery';

let h: PocketdHost;
let browser: Browser;
let page: Page;
let password = PASSWORD;

const signIn = (p: Page, email: string, pw: string) => submitSignIn(p, h.url, email, pw);

before(async () => {
  h = await setupPocketdHost();
  await createAdmin(h, EMAIL, PASSWORD);
  browser = await launchChromium(ARTIFACTS);
  page = await openPage(browser);
  await signIn(page, EMAIL, PASSWORD);
  await page.getByRole('heading', { name: 'Apps' }).waitFor();
});
after(async () => {
  await browser?.close();
  await h?.stop();
});

/** At desktop and phone sizes: a screenshot each, and axe finds nothing. */
const audit = (name: string, ready: () => Promise<unknown>, p: Page = page) => auditSizes(p, ARTIFACTS, name, ready);
const table = () => page.getByRole('region', { name: 'Admins table' });

test('the Admins page: add an admin, remove it (asked once more); the last one has no Remove', async () => {
  await page.getByRole('link', { name: 'Admins' }).click();
  await table().getByText(EMAIL).waitFor();
  assert.equal(await table().getByRole('button', { name: 'Remove' }).count(), 0, 'the only admin cannot be removed');
  await page.getByLabel('Email').fill('helper@example.com');
  await page.getByLabel('First password').fill('short');
  await page.getByRole('button', { name: 'Add admin' }).click();
  // The browser's own check (minlength) holds the form; nothing was added.
  assert.equal((await h.api('GET', '/api/admins')).body.admins.length, 1);
  await page.getByLabel('First password').fill('a good first password');
  await page.getByRole('button', { name: 'Add admin' }).click();
  await page.getByRole('status').getByText('helper@example.com can sign in now.').waitFor();
  await audit('admins', () => table().getByText('helper@example.com').waitFor());
  const helper = (await h.api('GET', '/api/admins')).body.admins.find((a: any) => a.email === 'helper@example.com');
  assert.equal(helper.two_factor, false);
  // The new admin signs in in its own browser; removing it ends that session.
  const other = await browser.newPage();
  other.setDefaultTimeout(30_000);
  await signIn(other, 'helper@example.com', 'a good first password');
  await other.getByRole('heading', { name: 'Apps' }).waitFor();
  await table()
    .getByRole('row', { name: /helper@example\.com/ })
    .getByRole('button', { name: 'Remove' })
    .click();
  await page.getByRole('button', { name: 'Yes, remove' }).click();
  await page.getByRole('status').getByText('helper@example.com was removed.').waitFor();
  await other.reload();
  await other.getByRole('heading', { name: 'Sign in to pocketd' }).waitFor();
  await other.close();
  const audits = (await h.api('GET', '/api/audit?limit=20')).body.entries.map((e: any) => `${e.method} ${e.route}`);
  assert.ok(audits.includes('DELETE /api/admins/:id') && audits.includes('POST /api/admins'), audits.join(', '));
});

test('changing your own password: a wrong current one says so; the right one ends your other sessions only', async () => {
  const elsewhere = (await h.api('POST', '/api/auth/login', { email: EMAIL, password }, null)).body.token;
  const form = page.getByRole('form', { name: 'Change your password' });
  await form.getByLabel('Current password').fill('not my password');
  await form.getByLabel('New password').fill('a brand new password');
  await form.getByRole('button', { name: 'Change password' }).click();
  await page.getByRole('alert').getByText('current_password').waitFor();
  await form.getByLabel('Current password').fill(password);
  await form.getByRole('button', { name: 'Change password' }).click();
  await page.getByText('Password changed. Your other sessions were signed out.').waitFor();
  password = 'a brand new password';
  assert.equal((await h.api('GET', '/api/auth/me', undefined, elsewhere)).status, 401);
  await page.reload();
  await table().getByText(EMAIL).waitFor();
});

test('two-factor: enrol (the key shown once), then signing in asks for the code; the host resets it', async () => {
  const setup = page.getByRole('form', { name: 'Set up two-factor sign-in' });
  await setup.getByLabel('Password').fill(password);
  await setup.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  assert.match((await page.getByTestId('totp-uri').textContent())!, /^otpauth:\/\/totp\/pocketd:/);
  await audit('totp-enrol', () => page.getByTestId('totp-secret').waitFor());
  const key = base32Decode(secret);
  const confirmed = stepAt(Date.now() / 1000);
  await page.getByLabel('Code from the app').fill(hotp(key, confirmed));
  await page.getByRole('button', { name: 'Turn on' }).click();
  const codes = (await page.getByTestId('recovery-codes').textContent())!.trim().split(/\s+/);
  assert.equal(codes.length, 10);
  await audit('totp-on', () => page.getByTestId('recovery-codes').waitFor());
  await page.getByRole('button', { name: 'I have kept them' }).click();
  await table()
    .getByRole('row', { name: /boss@example\.com/ })
    .getByRole('cell', { name: 'on', exact: true })
    .waitFor();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, EMAIL, password);
  const codeBox = page.getByLabel('Authentication code');
  await codeBox.waitFor();
  await audit('login-code', () => codeBox.waitFor());
  // The confirming code's step is spent: wrong and replayed codes are refused, the next step's code passes.
  await codeBox.fill(hotp(key, confirmed));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').getByText('the code is wrong or was used already').waitFor();
  while (stepAt(Date.now() / 1000) <= confirmed) await sleep(500);
  await codeBox.fill(hotp(key, stepAt(Date.now() / 1000)));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Apps' }).waitFor();

  // Neither the key nor a recovery code is in the daemon's journal or an answer; the key file is the daemon's alone.
  const journal = await h.sbx.run(['journalctl', '-u', 'pocketd', '--no-pager', '-o', 'cat']);
  const answers = JSON.stringify([
    (await h.api('GET', '/api/admins')).body,
    (await h.api('GET', '/api/audit?limit=100')).body,
  ]);
  for (const s of [secret, ...codes]) assert.ok(!journal.includes(s) && !answers.includes(s), s);
  const stat = (await h.sbx.run(['stat', '-c', '%U %a', '/var/lib/pocketd/secrets.key'])).trim();
  assert.equal(stat, 'pocketd 600');

  // Lost device and codes: the host's operator turns it off; the password alone signs in again.
  const need = await h.api('POST', '/api/auth/login', { email: EMAIL, password }, null);
  assert.equal(need.body.error.code, 'TOTP_REQUIRED');
  await h.sbx.run(['/usr/local/bin/pocketd', 'admin', 'totp-reset', '--email', EMAIL]);
  assert.equal((await h.api('POST', '/api/auth/login', { email: EMAIL, password }, null)).status, 200);
});
