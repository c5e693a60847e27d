import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { appUserOf } from '../../src/shared/naming.js';
import { createTemplates } from '../../src/shared/render.js';
import { TemplateError, type UnitContext, type SiteContext } from '../../src/shared/templates.js';
import { renderEnvFile } from '../../src/core/apps/model.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const t = createTemplates(path.join(root, 'templates'));
const golden = (file: string, actual: string) => {
  const p = path.join(root, 'test', 'fixtures', 'golden', file);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(p, actual);
  assert.equal(
    actual,
    readFileSync(p, 'utf8'),
    `${file} differs from its golden file (UPDATE_GOLDEN=1 to rewrite after review)`,
  );
};

export const UNIT: UnitContext = {
  name: 'blog',
  apps_user: 'pb-blog',
  app_dir: '/var/lib/pocketd-apps/blog',
  apps_dir: '/var/lib/pocketd-apps',
  releases_dir: '/var/lib/pocketd-releases',
  release_dir: '/var/lib/pocketd-releases/0.23.1',
  hidden: ['/var/lib/pocketd', '/etc/pocketd'],
  release_bin: '/var/lib/pocketd-releases/0.23.1/pocketbase',
  port: 20001,
  listen_port: 20001,
  listen_hex: '4E21',
  wake_unit: null,
  socket_unit: null,
  app_unit: 'pb-blog.service',
  sleep_after: null,
  start_burst: 10,
  env_file: '/etc/pocketd/env/blog.env',
  memory_max: '512M',
  cpu_quota: 150,
};
export const SITE: SiteContext = {
  name: 'blog',
  addresses: ['blog.example.com', '*.blog.example.com'],
  port: 20001,
  body_max: '64MB',
  tls_internal: false,
  sleep: false,
};

test('unit with limits matches its golden file', () => golden('unit-limits.service', t.renderUnit(UNIT)));
test('unit without limits has no MemoryMax or CPUQuota line', () => {
  const text = t.renderUnit({ ...UNIT, memory_max: null, cpu_quota: null });
  golden('unit-plain.service', text);
  assert.doesNotMatch(text, /MemoryMax|CPUQuota/);
});
test('site matches its golden file', () => golden('site.caddy', t.renderSite(SITE)));
test('http-only site addresses', () =>
  golden('site-http.caddy', t.renderSite({ ...SITE, addresses: ['http://blog.test'] })));
test("a site on Caddy's internal CA says tls internal; others do not", () => {
  assert.match(t.renderSite({ ...SITE, tls_internal: true }), /^\ttls internal$/m);
  assert.doesNotMatch(t.renderSite(SITE), /tls/);
});

test('hostile values are refused by the renderer, never escaped', () => {
  const bad: Array<Partial<UnitContext>> = [
    { name: 'blog\nUser=root' },
    { app_dir: '/x y' },
    { release_bin: '/bin/sh;id' },
    { memory_max: '1G\nExecStartPre=/bin/sh' },
    { env_file: '/etc/$(id)' },
    { apps_user: 'a"b' },
    { name: '' },
  ];
  for (const b of bad) assert.throws(() => t.renderUnit({ ...UNIT, ...b }), TemplateError, JSON.stringify(b));
  for (const a of [['a.test {'], ['a.test\nimport /etc/passwd'], ['a.test}'], ['a test'], []]) {
    assert.throws(() => t.renderSite({ ...SITE, addresses: a }), TemplateError, JSON.stringify(a));
  }
});

test('the env file quotes values so systemd reads them back exactly', () => {
  assert.equal(
    renderEnvFile({ A: 'plain', B: 'with "quotes" and $VAR and `tick` and \\' }),
    '# Managed by pocketd\nA="plain"\nB="with \\"quotes\\" and \\$VAR and \\`tick\\` and \\\\"\n',
  );
});

test("each app's user name fits Linux's 32 characters and stays unique", () => {
  assert.equal(appUserOf('blog'), 'pb-blog');
  assert.equal(appUserOf('a'.repeat(29)), `pb-${'a'.repeat(29)}`);
  const long = [
    'a'.repeat(30),
    'a'.repeat(31),
    'a'.repeat(32),
    `${'a'.repeat(20)}-b${'c'.repeat(10)}`,
    `${'a'.repeat(20)}-c${'c'.repeat(10)}`,
  ];
  const users = long.map(appUserOf);
  for (const u of users) assert.ok(u.length <= 32 && /^[a-z][a-z0-9-]*$/.test(u), u);
  assert.equal(new Set(users).size, long.length);
});

test('the unit hides the other apps, the store and the config, and shows one release', () => {
  const text = t.renderUnit(UNIT);
  assert.match(text, /^TemporaryFileSystem=\/var\/lib\/pocketd-apps:ro \/var\/lib\/pocketd-releases:ro$/m);
  assert.match(text, /^BindPaths=\/var\/lib\/pocketd-apps\/blog$/m);
  assert.match(text, /^BindReadOnlyPaths=\/var\/lib\/pocketd-releases\/0\.23\.1$/m);
  assert.match(text, /^InaccessiblePaths=-\/var\/lib\/pocketd -\/etc\/pocketd$/m);
  assert.deepEqual(
    t.sandboxProperties(UNIT).filter((p) => p.startsWith('User=')),
    ['User=pb-blog'],
  );
  assert.throws(() => t.renderUnit({ ...UNIT, hidden: ['/etc pocketd'] }), TemplateError);
});
