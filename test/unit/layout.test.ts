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

test('no source file is over 300 lines, and none carries a waiver', () => {
  const long = [...files('src'), ...files('ui/src')]
    .map((f) => ({ f, text: readFileSync(path.join(root, f), 'utf8') }))
    .filter(({ text }) => text.split('\n').length > 301 || /over 300 lines on purpose/i.test(text))
    .map(({ f, text }) => `${f} (${text.split('\n').length} lines)`);
  assert.deepEqual(long, []);
});

/**
 * What each room of src/ (and the dashboard) may import, by first folder under src/. The trust
 * boundary shows in the folders: the root helper reaches nothing but shared/; the dashboard
 * reaches nothing but the API's contract, and that type-only.
 */
const ALLOWED: Record<string, string[]> = {
  main: ['main', 'cli', 'api', 'core', 'host', 'db', 'shared', 'contract'],
  cli: ['cli', 'main', 'shared', 'contract'],
  api: ['api', 'core', 'host', 'shared', 'contract'],
  core: ['core', 'host', 'db', 'shared', 'contract'],
  host: ['host', 'shared'],
  db: ['db', 'shared', 'contract'],
  helper: ['helper', 'shared'],
  contract: ['contract', 'shared'],
  shared: ['shared'],
  ui: ['contract'],
};

/** Where a file stands: its room (first folder of src/, or `ui` for the dashboard). */
function roomOf(file: string): string | null {
  if (file.startsWith('ui/')) return 'ui';
  const m = /^src\/([^/]+)\//.exec(file);
  return m ? m[1]! : null;
}

/** The imports of one file that break the rules, as `file imports spec (why)`. */
function violations(file: string, text: string): string[] {
  const from = roomOf(file);
  if (!from) return [];
  const wrong: string[] = [];
  for (const m of text.matchAll(/^(import|export)(\s+type)?\b[^'"]*?from\s+'(\.[^']+)'/gm)) {
    const typeOnly = Boolean(m[2]);
    const spec = m[3]!;
    const target = path.normalize(path.join(path.dirname(file), spec));
    if (from === 'ui' && target.startsWith('ui/')) continue;
    const to = roomOf(target);
    if (!to || to === from) continue;
    if (!ALLOWED[from]!.includes(to)) wrong.push(`${file} imports ${spec} (${from} -> ${to})`);
    else if (from === 'ui' && !typeOnly) wrong.push(`${file} imports ${spec} (ui -> contract must be type-only)`);
  }
  return wrong;
}

test('imports point down the layers and the trust boundary shows in the folders', () => {
  const wrong = [...files('src'), ...files('ui/src')].flatMap((f) =>
    violations(f, readFileSync(path.join(root, f), 'utf8')),
  );
  assert.deepEqual(wrong, []);
});

test('the layering rules fail on a probe for each rule', () => {
  const probes: Array<[string, string]> = [
    ['src/api/routes/probe.ts', "import { x } from '../../db/database.js';"], // api -> db
    ['src/host/probe.ts', "import { x } from '../helper/main.js';"], // host -> helper
    ['src/core/probe.ts', "import { x } from '../helper/users.js';"], // core -> helper
    ['src/core/apps/probe.ts', "import { x } from '../../api/app.js';"], // core -> api
    ['ui/src/probe.ts', "import type { X } from '../../src/core/apps/views.js';"], // ui -> core
    ['ui/src/probe.ts', "import { X } from '../../src/contract/apps.js';"], // ui -> contract, not type-only
    ['src/helper/probe.ts', "import { x } from '../host/journal.js';"], // helper -> host
    ['src/helper/probe.ts', "import { x } from '../core/events.js';"], // helper -> core
    ['src/shared/probe.ts', "import { x } from '../host/journal.js';"], // shared -> host
    ['src/contract/probe.ts', "import { x } from '../core/events.js';"], // contract -> core
  ];
  for (const [file, text] of probes) assert.equal(violations(file, text).length, 1, `${file}: ${text}`);
  assert.deepEqual(violations('ui/src/ok.ts', "import type { X } from '../../src/contract/apps.js';"), []);
  assert.deepEqual(violations('src/helper/ok.ts', "import { x } from '../shared/rules.js';"), []);
});
