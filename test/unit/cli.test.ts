import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { tempDir } from '../support/tmp.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const cli = (args: string[], env: Record<string, string> = {}, input?: string) => {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'pocketd.js'), ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    input,
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

test('--help and --version', () => {
  const h = cli(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /pocketd serve/);
  for (const c of [
    'status',
    'apps list',
    'apps show',
    'apps create',
    'apps start|stop|restart',
    'apps delete',
    'deploy <app> <zip>',
    'upgrade <app> <version>',
    'logs <app> \\[-f\\]',
    'backups list|create',
    'backups restore',
    'backups download',
    'tokens list',
    'tokens create',
    'tokens revoke',
    'admin create',
    'admin passwd',
    'archives list',
    'archives restore <id>',
    'archives delete <id> --yes',
    '--json',
  ])
    assert.match(h.stdout, new RegExp(c), c);
  const v = cli(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^pocketd \d+\.\d+\.\d+\n$/);
  assert.equal(cli([]).code, 2);
});

test('admin create, token create: printed once, usable, errors with exit 2', () => {
  const { dir, cleanup } = tempDir();
  const env = { POCKETD_DATA_DIR: dir };
  try {
    const a = cli(['admin', 'create', '--email', 'Ops@Example.com', '--password-stdin'], env, 'a-strong-password\n');
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /created admin ops@example.com/);
    const dup = cli(['admin', 'create', '--email', 'ops@example.com', '--password', 'another-password'], env);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /exists/);
    const t = cli(['token', 'create', '--name', 'ci', '--scope', 'admin', '--expires-days', '30'], env);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^pkd_[A-Za-z0-9_-]{43}\n$/);
    assert.match(t.stderr, /admin/);
    // An app's token is made only for an app that exists (it belongs to that app's identity).
    const none = cli(['token', 'create', '--name', 'ci-blog', '--scope', 'app:blog:deploy'], env);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /no app named blog/);

    const bad: Array<[string[], RegExp]> = [
      [['admin', 'create', '--email', 'not-an-email', '--password', 'long-enough-1'], /--email/],
      [['admin', 'create', '--email', 'x@y.zz', '--password', 'short'], /--password: must be at least 10/],
      [['admin', 'create', '--email', 'x@y.zz'], /--password or --password-stdin is required/],
      [['token', 'create', '--name', 'x', '--scope', 'root'], /--scope/],
      [
        ['token', 'create', '--name', 'x', '--scope', 'admin', '--expires-days', '400'],
        /--expires-days: must be 1-365/,
      ],
      [['token', 'create', '--name', 'x\ny', '--scope', 'admin'], /--name/],
      [['token', 'create', '--scope', 'admin', '--bogus'], /bogus/],
      [['frobnicate'], /unknown command/],
    ];
    for (const [args, re] of bad) {
      const r = cli(args, env);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, re, args.join(' '));
    }
    const conf = cli(['serve'], { POCKETD_LISTEN: 'nowhere' });
    assert.equal(conf.code, 2);
    assert.match(conf.stderr, /POCKETD_LISTEN: must be host:port/);
  } finally {
    cleanup();
  }
});
