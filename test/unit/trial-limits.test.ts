import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HelperContext } from '../../src/helper/context.js';
import type { HelperConfig } from '../../src/helper/config.js';
import { createRecords } from '../../src/helper/root-files.js';
import { trialRelease } from '../../src/helper/trial.js';
import { limitsOfUnit, trialLimitProperties, TRIAL_MEMORY_MARGIN } from '../../src/helper/unit-limits.js';
import { createTemplates } from '../../src/shared/render.js';
import { unitContext, type AppLayout } from '../../src/shared/templates.js';
import { tempDir } from '../support/tmp.js';

/**
 * Issue #26: the trial boot of a new release runs within the app's own limits
 * (MemoryMax, CPUQuota), read from the unit the helper installed, so a release
 * that needs more than the app may have fails on the copy, not live.
 */

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const templates = createTemplates(path.join(root, 'templates'));
const layout = (dir: string): AppLayout => ({
  apps_dir: path.join(dir, 'apps'),
  releases_dir: path.join(dir, 'releases'),
  env_dir: path.join(dir, 'etc', 'env'),
  data_dir: path.join(dir, 'data'),
});
const unitText = (dir: string, memory_max: string | null, cpu_quota: number | null) =>
  templates.renderUnit(unitContext(layout(dir), 'shop', { port: 21001, version: '0.40.6', memory_max, cpu_quota }));

test("the app unit's limits are read back from the rendered unit; the trial gets its CPU quota and its memory plus the margin", () => {
  const limits = limitsOfUnit(unitText('/x', '256M', 50));
  assert.deepEqual(limits, { memory_max: '256M', cpu_quota: 50 });
  assert.deepEqual(trialLimitProperties(limits), [
    `MemoryMax=${(256 * 1024 * 1024 + TRIAL_MEMORY_MARGIN) / 1024}K`,
    'CPUQuota=50%',
  ]);
  assert.deepEqual(limitsOfUnit(unitText('/x', null, null)), { memory_max: null, cpu_quota: null });
  assert.deepEqual(trialLimitProperties({ memory_max: null, cpu_quota: null }), []);
  assert.deepEqual(trialLimitProperties(limitsOfUnit(unitText('/x', '1G', null))), [
    `MemoryMax=${(1024 ** 3 + TRIAL_MEMORY_MARGIN) / 1024}K`,
  ]);
  // A limit pocketd never writes is not carried into a unit root starts.
  for (const bad of ['MemoryMax=infinity', 'MemoryMax=1G 2G', 'CPUQuota=50', 'CPUQuota=0%'])
    assert.throws(() => limitsOfUnit(`[Service]\n${bad}\n`), /limits pocketd did not write/, bad);
});

test("trial-release starts the trial's unit with the app's limits, read from the installed unit", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const config = {
      unit_dir: path.join(dir, 'units'),
      apps_dir: path.join(dir, 'apps'),
      releases_dir: path.join(dir, 'releases'),
      state_dir: path.join(dir, 'state'),
      port_min: 21000,
      port_max: 21999,
      app_uid_min: 50000,
      app_uid_max: 59999,
    } as HelperConfig;
    mkdirSync(config.unit_dir);
    // A release as root installs it: root's file, not writable by others.
    mkdirSync(path.join(config.releases_dir, '0.40.6'), { recursive: true });
    writeFileSync(path.join(config.releases_dir, '0.40.6', 'pocketbase'), '');
    chmodSync(path.join(config.releases_dir, '0.40.6', 'pocketbase'), 0o755);
    const seen: Array<{ op: string; limits?: string[] }> = [];
    const tables: string[] = [];
    const ctx = {
      config,
      layout: layout(dir),
      templates,
      records: createRecords(path.join(dir, 'state'), { min: 21000, max: 21999 }),
      appIds: () => ({ uid: 0, gid: 0 }),
      appUser: (name: string) => `pb-${name}`,
      // The firewall's table around the trial: what nft was given each time.
      run: async (_code: number, cmd: string, args: string[]) => {
        if (cmd === 'nft') tables.push(readFileSync(args[1]!, 'utf8'));
        return '';
      },
      asApp: async (_name: string, op: string, io: { limits?: string[] } = {}) => {
        seen.push({ op, limits: io.limits });
        return `${JSON.stringify({ healthy: true, reason: '', output: [], copy_ms: 1, boot_ms: 1, bytes: 10 })}\n`;
      },
    } as unknown as HelperContext;
    writeFileSync(path.join(config.unit_dir, 'pb-shop.service'), unitText(dir, '512M', 150));
    assert.match(await trialRelease(ctx, 'shop', '0.40.6'), /PocketBase 0\.40\.6 healthy.*CPUQuota=150%\)$/);
    assert.deepEqual(seen, [
      { op: 'trial', limits: [`MemoryMax=${(512 * 1024 * 1024 + TRIAL_MEMORY_MARGIN) / 1024}K`, 'CPUQuota=150%'] },
    ]);
    // The table was put in place before the trial and again after it; the trial's record is gone.
    assert.equal(tables.length, 2);
    assert.deepEqual(readdirSync(path.join(dir, 'state', 'trials')), []);
    // Without an installed unit there is no trial: nothing says what the app may use.
    await assert.rejects(trialRelease(ctx, 'other', '0.40.6'), /app other has no installed unit/);
  } finally {
    cleanup();
  }
});
