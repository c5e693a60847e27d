import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createPrivileged } from '../../src/host/privileged.js';
import { createGate } from '../../src/shared/gate.js';
import { tempDir } from '../support/tmp.js';

// Issue #29's 200-app runs found it: 200 apps failing their health checks at once queued 200 restarts, each a
// helper process, and the daemon's cgroup hit its MemoryMax (the kernel killed pocketd). Helper calls are bounded.
test('no more than the bound of helper processes run at once; the others wait and all succeed', async () => {
  const { dir, cleanup } = tempDir('pocketd-slots-');
  try {
    // A stand-in helper that notes how many of it run at once (mkdir is atomic: one directory per process).
    const helper = path.join(dir, 'helper');
    writeFileSync(
      helper,
      `#!/bin/sh\nmkdir "${dir}/run.$$"\nls -d "${dir}"/run.* | wc -l >> "${dir}/seen"\nsleep 0.2\nrmdir "${dir}/run.$$"\necho ok\n`,
    );
    chmodSync(helper, 0o755);
    const privileged = createPrivileged(helper, false, 3);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => privileged.run('start', [`app${i}`])));
    assert.deepEqual(answers, Array(12).fill('ok\n'));
    const seen = readFileSync(path.join(dir, 'seen'), 'utf8').trim().split('\n').map(Number);
    assert.equal(seen.length, 12);
    assert.ok(Math.max(...seen) <= 3, `at most 3 at once, saw ${Math.max(...seen)}`);
    assert.ok(Math.max(...seen) >= 2, 'the calls did run side by side');
  } finally {
    cleanup();
  }
});

test('gate.run: first come first served, and a failed run frees its place', async () => {
  const slots = createGate({ max: 1, waitMax: Infinity, code: 'BUSY', what: 'runs' });
  const order: number[] = [];
  let open!: () => void;
  const gate = new Promise<void>((go) => (open = go));
  const first = slots.run(async () => {
    await gate;
    throw new Error('boom');
  });
  const rest = [1, 2, 3].map((i) => slots.run(async () => void order.push(i)));
  assert.deepEqual(slots.stats(), { held: 1, waiting: 3 });
  open();
  await assert.rejects(first, /boom/);
  await Promise.all(rest);
  assert.deepEqual(order, [1, 2, 3]);
  assert.deepEqual(slots.stats(), { held: 0, waiting: 0 });
});
