#!/usr/bin/env node
// Runs every compiled test file in one node:test run: unit tests first, then the
// integration tests, which boot the host sandbox (root on Linux required).
import { readdirSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const only = process.argv.slice(2);
const files = [];
for (const dir of ['unit', 'integration']) {
  const abs = path.join(root, 'dist', 'test', dir);
  if (!existsSync(abs)) continue;
  for (const f of readdirSync(abs).sort()) {
    if (!f.endsWith('.test.js')) continue;
    // An argument names a file (part of its name) or a whole directory (`unit`, `integration`).
    if (only.length && !only.some((o) => o === dir || f.includes(o))) continue;
    files.push(path.join(abs, f));
  }
}
if (files.length === 0) {
  console.error('no test files found; run npm run build first');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
