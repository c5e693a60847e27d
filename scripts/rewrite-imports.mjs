#!/usr/bin/env node
// Moves source files by scripts/moves.json ({ "old/path.ts": "new/path.ts" }) and rewrites every
// relative import in the tree that names a moved file, or that is written in a moved file.
// Run again on a branch that still imports old paths (after merging a re-foldering): files that
// no longer exist at their old path are not moved again, only the imports are rewritten.
//
//   node scripts/rewrite-imports.mjs            # move and rewrite
//   node scripts/rewrite-imports.mjs --dry-run  # print what would change
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dry = process.argv.includes('--dry-run');
const moves = JSON.parse(readFileSync(path.join(root, 'scripts/moves.json'), 'utf8'));
const stem = (p) => p.replace(/\.(ts|tsx|js|mjs|cjs)$/, '');
const byStem = new Map(Object.entries(moves).map(([from, to]) => [stem(from), stem(to)]));

const SCAN = ['src', 'test', 'bench', 'ui/src', 'deploy', 'bin'];
const files = [];
function walk(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (name === 'node_modules' || name === 'fixtures') continue;
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(ts|tsx|mjs|js)$/.test(name)) files.push(path.relative(root, p));
  }
}
SCAN.forEach((d) => walk(path.join(root, d)));

// A file's imports are written from where it stands now; a file still at a moved-from path goes to its new one.
const before = (file) => file;
const after = (file) => moves[file] ?? file;

const IMPORT = /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\2/g;
let changed = 0;
for (const file of files) {
  const text = readFileSync(path.join(root, file), 'utf8');
  const oldDir = path.dirname(before(file));
  const newDir = path.dirname(after(file));
  const out = text.replace(IMPORT, (all, lead, q, spec) => {
    const ext = spec.match(/\.(js|ts|tsx|mjs)$/)?.[0] ?? '';
    const target = path.normalize(path.join(oldDir, spec));
    const targetStem = stem(target);
    const newStem = byStem.get(targetStem) ?? targetStem;
    let rel = path
      .relative(newDir, newStem + (ext ? ext : ''))
      .split(path.sep)
      .join('/');
    if (!ext && !byStem.has(targetStem)) rel = path.relative(newDir, target).split(path.sep).join('/');
    if (!rel.startsWith('.')) rel = './' + rel;
    return rel === spec ? all : `${lead}${q}${rel}${q}`;
  });
  if (out !== text) {
    changed++;
    if (dry) console.log('rewrite', file);
    else writeFileSync(path.join(root, file), out);
  }
}
let moved = 0;
for (const [from, to] of Object.entries(moves)) {
  if (!existsSync(path.join(root, from))) continue;
  moved++;
  if (dry) {
    console.log('move', from, '->', to);
    continue;
  }
  mkdirSync(path.join(root, path.dirname(to)), { recursive: true });
  execFileSync('git', ['mv', from, to], { cwd: root });
}
console.log(`${dry ? 'would rewrite' : 'rewrote'} ${changed} file(s), ${dry ? 'would move' : 'moved'} ${moved}`);
