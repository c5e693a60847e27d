import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { withIdLock } from '../../src/helper/id-lock.js';
import type { HelperContext } from '../../src/helper/context.js';

/** Two creates at once must not pick the same new uid: the helper's id lock lets one pick at a time. */
function ctxIn(dir: string): HelperContext {
  return { config: { state_dir: dir } } as unknown as HelperContext;
}

test('callers of the id lock never overlap, and a lock whose owner died is taken over', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pocketd-idlock-'));
  const ctx = ctxIn(dir);
  let inside = 0;
  let most = 0;
  const order: number[] = [];
  await Promise.all(
    [1, 2, 3, 4, 5].map((n) =>
      withIdLock(ctx, async () => {
        inside++;
        most = Math.max(most, inside);
        await sleep(20);
        order.push(n);
        inside--;
      }),
    ),
  );
  assert.equal(most, 1);
  assert.equal(order.length, 5);
  // A helper killed while it held the lock left its pid behind: the next one goes on.
  writeFileSync(path.join(dir, 'new-ids.lock'), '999999999');
  assert.equal(await withIdLock(ctx, async () => 'taken over'), 'taken over');
});
