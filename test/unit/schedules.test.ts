import { test } from 'node:test';
import assert from 'node:assert/strict';
import cron from 'node-cron';
import { createApps } from '../../src/core/apps/apps.js';
import { createBackups } from '../../src/core/backups.js';
import { every } from '../../src/core/clock.js';
import { inProcess } from '../support/fake-host.js';

const backupTasks = () => [...cron.getTasks().values()].filter((t) => t.name?.startsWith('backup-'));

// Issue #29: one cron task per app with a schedule held ~35 KB each; apps on the same schedule now share one.
test('apps on the same backup schedule share one cron task, which queues a backup of each', async () => {
  const h = await inProcess();
  const backups = createBackups({ ...h.deps, db: h.db });
  try {
    const apps = createApps(h.deps);
    for (const name of ['one', 'two', 'three']) {
      const made = await apps.create({ name, domains: [], env: {} }, 't');
      assert.equal((await h.deps.deployments.wait(made.deployment_id, 10_000)).status, 'success');
    }
    const schedule = (name: string, expr: string | null) =>
      h.db.updateTable('apps').set({ backup_schedule: expr }).where('name', '=', name).execute();
    await schedule('one', '0 3 1 1 *');
    await schedule('two', '0 3 1 1 *');
    await schedule('three', '0 4 1 1 *');
    await backups.sync();
    assert.deepEqual(
      backupTasks()
        .map((t) => t.getPattern())
        .sort(),
      ['0 3 1 1 *', '0 4 1 1 *'],
    );

    await backupTasks()
      .find((t) => t.getPattern() === '0 3 1 1 *')!
      .execute();
    const scheduled = await h.db
      .selectFrom('deployments')
      .select('app')
      .where('kind', '=', 'backup')
      .where('actor', '=', 'pocketd:schedule')
      .execute();
    assert.deepEqual(scheduled.map((d) => d.app).sort(), ['one', 'two']);

    // A schedule no app has any more goes; one that gains an app keeps its task and names the app.
    await schedule('three', '0 3 1 1 *');
    await backups.sync();
    assert.deepEqual(
      backupTasks().map((t) => t.getPattern()),
      ['0 3 1 1 *'],
    );
    await schedule('one', null);
    await schedule('two', null);
    await schedule('three', null);
    await backups.sync();
    assert.equal(backupTasks().length, 0);
  } finally {
    await backups.stop();
    await h.close();
  }
});

test('every() never runs two ticks at once, and its stop waits for the tick in progress', async () => {
  let running = 0;
  let most = 0;
  let ticks = 0;
  let ended = 0;
  const ticker = every(0.01, async () => {
    running++;
    ticks++;
    most = Math.max(most, running);
    await new Promise((ok) => setTimeout(ok, 35));
    running--;
    ended++;
  });
  await new Promise((ok) => setTimeout(ok, 200));
  await ticker.stop();
  assert.ok(ticks >= 2, `ticked ${ticks} times`);
  assert.equal(most, 1);
  assert.equal(ended, ticks, 'stop resolved before the last tick ended');
  await new Promise((ok) => setTimeout(ok, 50));
  assert.equal(ticks, ended, 'ticked after stop');
});
