import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { standinScript } from '../support/release-mirror.js';
import { freePort } from '../support/sandbox.js';
import { tempDir } from '../support/tmp.js';

const require = createRequire(import.meta.url);
const sqlite = path.dirname(require.resolve('better-sqlite3/package.json'));
let tmp: { dir: string; cleanup: () => void };
const bin = (behavior: string) => {
  const file = path.join(tmp.dir, `pb-${behavior}`);
  writeFileSync(file, standinScript('0.23.1', behavior, sqlite));
  chmodSync(file, 0o755);
  return file;
};
before(() => {
  tmp = tempDir();
});
after(() => tmp.cleanup());

test('the stand-in has PocketBase command-line surface', () => {
  const pb = bin('healthy');
  assert.equal(spawnSync(pb, ['--version'], { encoding: 'utf8' }).stdout, 'pocketbase version 0.23.1\n');
  const badFlag = spawnSync(pb, ['serve', '--nope=1'], { encoding: 'utf8' });
  assert.equal(badFlag.status, 1);
  assert.match(badFlag.stderr, /unknown flag: --nope/);
  assert.equal(spawnSync(pb, ['frob'], { encoding: 'utf8' }).status, 1);
  const su = spawnSync(pb, ['superuser', 'upsert', 'a@b.co', 'pass12345', `--dir=${tmp.dir}/data`], {
    encoding: 'utf8',
  });
  assert.equal(su.status, 0, su.stderr);
  assert.ok(existsSync(`${tmp.dir}/data/data.db`));
});

test('serve: health, public files, records in SQLite; unhealthy and crash variants', async () => {
  const port = await freePort();
  const pub = path.join(tmp.dir, 'public');
  mkdirSync(pub, { recursive: true });
  writeFileSync(path.join(pub, 'index.html'), '<h1>hi</h1>');
  const p = spawn(bin('healthy'), ['serve', `--http=127.0.0.1:${port}`, `--dir=${tmp.dir}/d1`, `--publicDir=${pub}`], {
    stdio: 'ignore',
  });
  try {
    let health: any = null;
    for (let i = 0; i < 100 && !health; i++) {
      health = await fetch(`http://127.0.0.1:${port}/api/health`).then(
        (r) => r.json(),
        () => null,
      );
      if (!health) await sleep(50);
    }
    assert.equal(health.message, 'API is healthy.');
    assert.equal(health.data.standin, true);
    assert.equal(await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()), '<h1>hi</h1>');
    assert.equal((await fetch(`http://127.0.0.1:${port}/../../etc/passwd`)).status, 404);
    await fetch(`http://127.0.0.1:${port}/api/collections/notes/records`, {
      method: 'POST',
      body: JSON.stringify({ text: 'kept' }),
    });
    const list = (await fetch(`http://127.0.0.1:${port}/api/collections/notes/records`).then((r) => r.json())) as any;
    assert.deepEqual(
      list.items.map((i: any) => i.text),
      ['kept'],
    );
  } finally {
    p.kill('SIGTERM');
  }

  const crash = spawnSync(bin('crash'), ['serve', `--http=127.0.0.1:${port}`, `--dir=${tmp.dir}/d2`], {
    encoding: 'utf8',
  });
  assert.equal(crash.status, 1);
  const port2 = await freePort();
  const u = spawn(bin('unhealthy'), ['serve', `--http=127.0.0.1:${port2}`, `--dir=${tmp.dir}/d3`], { stdio: 'ignore' });
  try {
    let status = 0;
    for (let i = 0; i < 100 && !status; i++) {
      status = await fetch(`http://127.0.0.1:${port2}/api/health`).then(
        (r) => r.status,
        () => 0,
      );
      if (!status) await sleep(50);
    }
    assert.equal(status, 500);
  } finally {
    u.kill('SIGTERM');
  }
});
