import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readZip, unsafeName } from '../../src/shared/zip.js';
import { PocketdError } from '../../src/shared/errors.js';
import { buildZip, type RawEntry } from '../support/zip.js';

const limits = {
  maxUnpackedBytes: 10 * 1024 * 1024,
  maxFiles: 50,
  maxRatio: 100,
  topDirs: ['pb_public', 'pb_hooks', 'pb_migrations'],
};

async function withZip<T>(entries: RawEntry[] | Buffer, fn: (file: string, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pocketd-zip-'));
  try {
    const file = path.join(dir, 'b.zip');
    await writeFile(file, Buffer.isBuffer(entries) ? entries : buildZip(entries));
    return await fn(file, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function refusal(entries: RawEntry[] | Buffer): Promise<string> {
  return withZip(entries, async (file, dir) => {
    try {
      await readZip(file, limits, path.join(dir, 'out'));
    } catch (err) {
      assert.ok(err instanceof PocketdError && err.code === 'VALIDATION_FAILED', String(err));
      assert.equal(err.fields[0]?.field, 'file');
      // Refused whole: not one file was written.
      const out = await readdir(path.join(dir, 'out'), { recursive: true }).catch(() => []);
      assert.deepEqual(
        out.filter((f) => !f.endsWith('pb_public') && !f.endsWith('pb_hooks')),
        [],
      );
      return err.fields[0]!.code;
    }
    assert.fail('the zip was accepted');
  });
}

test('a good bundle is summarised and extracted', async () => {
  await withZip(
    [
      { name: 'pb_public/' },
      { name: 'pb_public/index.html', data: '<h1>v1</h1>' },
      { name: 'pb_hooks/main.pb.js', data: 'routerAdd()', deflate: true },
    ],
    async (file, dir) => {
      const s = await readZip(file, limits, path.join(dir, 'out'));
      assert.deepEqual(s, { files: 2, unpacked_bytes: 22, dirs: ['pb_hooks', 'pb_public'] });
      assert.equal(await readFile(path.join(dir, 'out/pb_public/index.html'), 'utf8'), '<h1>v1</h1>');
    },
  );
});

test('hostile bundles are refused whole, each with its reason', async () => {
  const ok = { name: 'pb_public/a.html', data: 'a' };
  const cases: Array<[string, RawEntry[] | Buffer]> = [
    ['UNSAFE_ENTRY', [ok, { name: 'pb_public/../../etc/passwd', data: 'x' }]],
    ['UNSAFE_ENTRY', [ok, { name: '/etc/passwd', data: 'x' }]],
    ['UNSAFE_ENTRY', [ok, { name: 'pb_public\\..\\x', data: 'x' }]],
    ['UNSAFE_ENTRY', [ok, { name: 'pb_public/link', data: '/etc/shadow', mode: 0o120777 }]],
    ['UNSAFE_ENTRY', [ok, { name: 'pb_public/dev', mode: 0o020644 }]],
    ['UNSAFE_ENTRY', [ok, { name: 'pb_public/a\nb.html', data: 'x' }]],
    ['DUPLICATE_ENTRY', [ok, { name: 'pb_public/a.html', data: 'b' }]],
    ['UNEXPECTED_ENTRY', [ok, { name: 'pb_data/data.db', data: 'x' }]],
    ['UNEXPECTED_ENTRY', [ok, { name: 'README.md', data: 'x' }]],
    ['COMPRESSION_RATIO', [{ name: 'pb_public/zeros', data: Buffer.alloc(8 * 1024 * 1024), deflate: true }]],
    [
      'TOO_LARGE_UNPACKED',
      [
        { name: 'pb_public/a', data: Buffer.alloc(6 * 1024 * 1024, 1) },
        { name: 'pb_public/b', data: Buffer.alloc(6 * 1024 * 1024, 2) },
      ],
    ],
    ['TOO_MANY_FILES', Array.from({ length: 51 }, (_, i) => ({ name: `pb_public/${i}.txt`, data: 'x' }))],
    ['EMPTY_BUNDLE', [{ name: 'pb_public/' }]],
    ['NOT_A_ZIP', Buffer.from('this is not a zip file at all, just text')],
    ['NOT_A_ZIP', buildZip([ok]).subarray(0, 40)],
  ];
  for (const [code, entries] of cases)
    assert.equal(
      await refusal(entries),
      code,
      JSON.stringify(Array.isArray(entries) ? entries.map((e) => e.name) : 'bytes'),
    );
});

test('entry names: traversal, absolute, empty segments and control characters are unsafe', () => {
  for (const n of ['../x', 'a/../../x', '/abs', 'C:/x', 'a//b', './a', 'a\u0000b', 'a\\b']) assert.ok(unsafeName(n), n);
  for (const n of ['pb_public/index.html', 'pb_hooks/', 'pb_public/ünïcode ok.txt', 'pb_public/..hidden'])
    assert.equal(unsafeName(n), null, n);
});
