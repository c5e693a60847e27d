import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HELPER_VERBS } from '../../src/shared/protocol.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

test("README's list of helper verbs is the helper's table, no more and no less", () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const para = readme.slice(readme.indexOf('has a fixed table of verbs'), readme.indexOf('src/shared/protocol.ts'));
  const listed = [...para.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]).sort();
  assert.deepEqual(listed, Object.keys(HELPER_VERBS).sort());
});

test("README's CI script says why: no curl -f swallowing the error, the reason and where the app ended printed", () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('```bash\n', readme.indexOf('<!-- ci-script -->'));
  assert.ok(start > 0, 'the CI script is marked');
  const script = readme.slice(start, readme.indexOf('```', start + 7));
  assert.doesNotMatch(script, /curl[^\n]*\s-f/);
  assert.match(script, /set -euo pipefail/);
  assert.match(script, /pocketd answered \$code/);
  assert.match(script, /\.error/);
  assert.match(script, /\.outcome\.summary/);
  assert.match(script, /\.undo/);
});

test("README's command line lists every command of the CLI's help", async () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Command line'), readme.indexOf('## API'));
  for (const c of [
    'status',
    'apps list',
    'apps create',
    'apps start|stop|restart',
    'apps delete',
    'deploy <app> <zip>',
    'upgrade <app> <version>',
    'logs <app> [-f]',
    'backups list|create',
    'restore <app> <id>',
    'download <app> <id>',
    'tokens list',
    'create --name',
    'revoke <id>',
    'admin create|passwd',
    'archives list',
    'restore <id>',
    'delete <id> --yes',
    '--json',
  ])
    assert.ok(section.includes(c), c);
});
