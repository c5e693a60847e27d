import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApps } from '../../src/core/apps/apps.js';
import { createBackups } from '../../src/core/backups.js';
import { inProcess } from '../support/fake-host.js';

// Issue #25: manual backups were never pruned; now they have their own bound, with a clear refusal.
test('manual backups stop at backup_manual_max with BACKUP_LIMIT; deleting one makes room', async () => {
  const h = await inProcess();
  try {
    const made = await createApps(h.deps).create({ name: 'shop', domains: [], env: {} }, 't');
    assert.equal((await h.deps.deployments.wait(made.deployment_id, 10_000)).status, 'success');
    const backups = createBackups({ ...h.deps, db: h.db, manualMax: 2 });
    const take = async () => {
      const r = await backups.manual('shop', 't');
      return 'done' in r ? 'made' : 'queued';
    };
    assert.equal(await take(), 'made');
    assert.equal(await take(), 'made');
    await assert.rejects(take(), (e: { code?: string; message?: string }) => {
      assert.equal(e.code, 'BACKUP_LIMIT');
      assert.match(e.message ?? '', /delete one first/);
      return true;
    });
    const [newest] = await backups.list('shop');
    await backups.remove('shop', newest!.id);
    assert.equal(await take(), 'made');
    assert.equal((await backups.list('shop')).filter((b) => b.kind === 'manual').length, 2);
  } finally {
    await h.close();
  }
});
