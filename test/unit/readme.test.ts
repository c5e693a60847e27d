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
