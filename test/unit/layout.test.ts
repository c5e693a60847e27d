import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** The shape of the tree: rooms of a size one can read, and imports that point down the layers. */
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

function files(dir: string): string[] {
  return readdirSync(path.join(root, dir)).flatMap((f) => {
    const rel = path.join(dir, f);
    if (statSync(path.join(root, rel)).isDirectory()) return files(rel);
    return /\.tsx?$/.test(f) ? [rel] : [];
  });
}

test('no source file is much over 300 lines unless its opening comment says why', () => {
  const long = [...files('src'), ...files('ui/src')]
    .map((f) => ({ f, text: readFileSync(path.join(root, f), 'utf8') }))
    .filter(({ text }) => text.split('\n').length > 320 && !/Over 300 lines on purpose/.test(text.slice(0, 4000)))
    .map(({ f, text }) => `${f} (${text.split('\n').length} lines)`);
  assert.deepEqual(long, []);
});

test('imports point down the layers: api -> core -> host/db; the helper uses host alone', () => {
  // What each layer may not import (relative imports into these folders of src/).
  const forbidden: Record<string, string[]> = {
    'src/core': ['api'],
    'src/host': ['api', 'core'],
    'src/db': ['api', 'core', 'host'],
    'src/helper': ['api', 'core', 'db'],
    // PocketBase's capability table is pure: the daemon and the helper both use it.
    'src/pocketbase': ['api', 'core', 'db', 'host', 'helper'],
  };
  const wrong: string[] = [];
  for (const [dir, banned] of Object.entries(forbidden)) {
    for (const f of files(dir)) {
      for (const m of readFileSync(path.join(root, f), 'utf8').matchAll(/from '(\.[^']+)'/g)) {
        const target = path.relative(path.join(root, 'src'), path.resolve(path.dirname(path.join(root, f)), m[1]!));
        if (banned.includes(target.split(path.sep)[0]!)) wrong.push(`${f} imports ${m[1]}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});
