import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { PocketdHost } from './host.js';

/** The dashboard tests' browser: Debian's Chromium through playwright-core, never a downloaded one. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1440, height: 900 };
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Starts headless Chromium (failing with what to install when it is missing) and makes `artifacts`. */
export async function launchChromium(artifacts: string): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`the dashboard tests need Debian's chromium at ${CHROMIUM} (apt-get install chromium)`);
  await mkdir(artifacts, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The host's first admin, made with the CLI as its operator would (the password on stdin). */
export async function createAdmin(h: PocketdHost, email: string, password: string): Promise<void> {
  await h.sbx.run(['/usr/local/bin/pocketd', 'admin', 'create', '--email', email, '--password-stdin'], {
    input: `${password}\n`,
  });
}

/** A desktop-sized page of `browser` that waits up to 30 s for what it is asked to find. */
export async function openPage(browser: Browser): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(30_000);
  return page;
}

/** Fills the dashboard's sign-in form at `url` and sends it (what comes next is the caller's to wait for). */
export async function submitSignIn(p: Page, url: string, email: string, password: string): Promise<void> {
  await p.goto(url);
  await p.getByLabel('Email').fill(email);
  await p.getByLabel('Password', { exact: true }).fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs an admin in and waits for the Apps page. */
export async function signIn(p: Page, url: string, email: string, password: string): Promise<void> {
  await submitSignIn(p, url, email, password);
  await p.getByRole('heading', { name: 'Apps' }).waitFor();
}

/** What axe-core finds wrong on the page as it is now, one line per rule with the elements. */
export async function axeOn(p: Page): Promise<string[]> {
  await p.evaluate(AXE);
  return p.evaluate(async () => {
    const r = await (window as any).axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map(
      (v: any) =>
        `${v.id} (${v.impact}): ${v.nodes
          .slice(0, 3)
          .map((n: any) => n.target.join(' '))
          .join(' | ')}`,
    );
  });
}

/** At desktop and phone sizes: a screenshot each into `artifacts`, and axe finds nothing. */
export async function auditSizes(p: Page, artifacts: string, name: string, ready: () => Promise<unknown>) {
  const problems: string[] = [];
  for (const [size, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    await p.setViewportSize(viewport);
    await ready();
    await p.waitForTimeout(150);
    await p.screenshot({ path: path.join(artifacts, `${name}-${size}.png`), fullPage: true });
    for (const v of await axeOn(p)) problems.push(`${size}: ${v}`);
  }
  await p.setViewportSize({ width: 1280, height: 860 });
  assert.deepEqual(problems, [], `axe on ${name}`);
}
