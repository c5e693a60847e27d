import { z } from 'zod';
import type { AppDeps } from '../apps/deps.js';
import type { AppSettings } from '../apps/model.js';
import type { Backups } from '../backups.js';
import {
  CancelledError,
  type Deployment,
  type Recovery,
  type StepContext,
  type StepDef,
} from '../deployments/engine.js';
import { isDowngrade } from './version-order.js';
import { stopAndSnapshot } from './stop-snapshot.js';

/** What an app runs: a PocketBase release and, optionally, a bundle of its own code. */
export const appReleaseSchema = z.object({ version: z.string(), bundle: z.number().int().nullable() });
export type AppRelease = z.infer<typeof appReleaseSchema>;

/** The params every change records once it starts; recovery after a crash reads them back. */
export const changeParamsSchema = z
  .object({
    from: appReleaseSchema,
    to: appReleaseSchema,
    /** A backup whose data is put in place as part of the change. */
    restore_backup: z.number().int().nullable(),
    was_running: z.boolean(),
    /** Boot the new release on a copy of the app before the app is touched (upgrades; absent in older rows). */
    trial: z.boolean().optional(),
  })
  .loose();
export type ChangeParams = z.infer<typeof changeParamsSchema>;

export const CHANGE_KINDS = ['upgrade', 'deploy', 'rollback', 'restore'] as const;

export type ChangeDeps = AppDeps & { backups: Backups };

/**
 * The steps of one change of what a working app runs, from `p.from` to `p.to`:
 * trial (a new release booted on a copy first), stop, snapshot, switch release
 * and/or bundle (and data), start, health gate.
 * Each step that changes the host has its undo; `save` records the result.
 */
export function changeSteps(
  deps: ChangeDeps,
  settings: AppSettings,
  p: ChangeParams,
  save: () => Promise<void>,
): StepDef[] {
  const { host, privileged } = deps;
  const app = settings.name;
  const next: AppSettings = { ...settings, version: p.to.version };
  const newRelease = p.to.version !== p.from.version;
  const newBundle = p.to.bundle !== null && p.to.bundle !== p.from.bundle;
  // When the new process was started: its own log lines alone explain a failed gate.
  let startedAt = Date.now();
  const gate = async (ctx: StepContext) => {
    const r = await host.waitHealthy(app, settings.port, () => ctx.cancelled(), startedAt);
    if (ctx.cancelled()) throw new CancelledError('request');
    return r;
  };
  return [
    { name: 'validate', run: async () => describe(p) },
    {
      name: 'fetch_release',
      skip: () => !newRelease,
      run: async () => {
        await deps.releases.ensure(p.to.version);
        return `PocketBase ${p.to.version} ready`;
      },
    },
    {
      name: 'extract_bundle',
      skip: () => !newBundle,
      run: async () => {
        await deps.bundles.check(app, p.to.bundle!);
        return `bundle ${p.to.bundle} checked`;
      },
    },
    // The new release boots on a throwaway copy of the app's data and files first, in the app's own sandbox
    // (helper verb trial-release); a failure ends the change here, the live app not even stopped.
    {
      name: 'trial',
      skip: () => !newRelease || p.trial !== true,
      // Nothing of the app was changed: the deployment fails, there was nothing to roll back.
      onFailure: 'failed',
      run: async () => {
        const said = await privileged.run('trial-release', [app, p.to.version], { timeoutMs: 35 * 60_000 });
        return said.trim() || `PocketBase ${p.to.version} healthy on a copy`;
      },
    },
    ...stopAndSnapshot(deps, app, settings.port),
    {
      name: 'restore_data',
      skip: () => p.restore_backup === null,
      run: async () => {
        await deps.backups.restoreFiles(app, p.restore_backup!);
        return `data of backup ${p.restore_backup}`;
      },
    },
    {
      name: 'install_release',
      skip: () => !newRelease,
      run: async () => {
        await host.installUnit(next);
        return `${p.from.version} -> ${p.to.version}`;
      },
      undo: () => host.installUnit(settings),
    },
    {
      name: 'install_bundle',
      skip: () => !newBundle,
      run: async () => {
        // The kept zip is the helper's stdin; the app's own user unpacks it inside its directory.
        await privileged.run('install-bundle', [app], {
          stdinFile: (await deps.bundles.get(app, p.to.bundle!)).file,
          timeoutMs: 30 * 60_000,
        });
        return `bundle ${p.to.bundle}`;
      },
      undo: async () => {
        await privileged.run('revert-bundle', [app]);
      },
    },
    {
      name: 'start',
      run: async () => {
        startedAt = Date.now();
        await privileged.run('start', [app]);
      },
      undo: async () => {
        await privileged.run('stop', [app]);
      },
    },
    { name: 'wait_health', run: gate },
    { name: 'finish', run: save },
  ];
}

/**
 * A change the daemon was killed in the middle of: finished when the new
 * release already passes the health gate, otherwise rolled back from what the
 * steps recorded.
 */
export async function recoverChange(
  deps: ChangeDeps,
  d: Deployment,
  save: (to: AppRelease) => Promise<void>,
): Promise<Recovery> {
  const { host, privileged } = deps;
  // Cut short before its first step: it changed nothing (its params are still the request's).
  if (!d.steps.some((s) => s.status === 'success' || s.status === 'running'))
    return { status: 'failed', error: 'interrupted by a stop of pocketd before its first step; nothing was changed' };
  const p = changeParamsSchema.parse(d.params);
  // Cut short in its trial (or before): the live app was not touched, so it is left running as it is; the
  // trial's copy is removed by its own transient unit (bounded by RuntimeMaxSec) or by the next trial.
  if (!d.steps.some((s) => s.name === 'stop' && (s.status === 'success' || s.status === 'running')))
    return {
      status: 'rolled_back',
      error:
        'interrupted by a stop of pocketd before the app was stopped; nothing had changed, the app was left as it was',
    };
  const stepDone = (name: string) =>
    d.steps.some((s) => s.name === name && (s.status === 'success' || s.status === 'running'));
  const app = d.app;
  const { settings } = await deps.store.load(app);
  if (stepDone('start') || stepDone('wait_health') || stepDone('finish')) {
    try {
      await host.waitHealthy(app, settings.port);
      await save(p.to);
      return {
        status: 'success',
        error:
          'interrupted by a stop of pocketd after the new release started; it passed the health gate on restart, so the change was finished',
      };
    } catch {
      /* roll back below */
    }
  }
  const undone: string[] = [];
  await privileged.run('stop', [app]).catch(() => undefined);
  if (stepDone('install_bundle')) {
    await privileged.run('revert-bundle', [app]);
    undone.push('bundle reverted');
  }
  // The store still holds the release from before the change: render the unit from it.
  if (stepDone('install_release')) {
    await host.installUnit(settings);
    undone.push(`unit back on ${settings.version}`);
  }
  const snap = await deps.backups.snapshotOf(d.id);
  if (
    snap !== null &&
    (stepDone('restore_data') || stepDone('install_release') || stepDone('install_bundle') || stepDone('start'))
  ) {
    await deps.backups.restoreFiles(app, snap);
    undone.push(`data from snapshot ${snap}`);
  }
  if (p.was_running) {
    await privileged.run('start', [app]);
    await host.waitHealthy(app, settings.port);
    undone.push('started');
  }
  return {
    status: 'rolled_back',
    error: `interrupted by a stop of pocketd; rolled back on restart (${undone.join(', ') || 'nothing had changed'})`,
  };
}

const describe = (p: ChangeParams): string => {
  const parts: string[] = [];
  if (p.from.version !== p.to.version)
    parts.push(
      `PocketBase ${p.from.version} -> ${p.to.version}${isDowngrade(p.from.version, p.to.version) ? ' (a DOWNGRADE to an older release)' : ''}`,
    );
  if (p.to.bundle !== p.from.bundle) parts.push(`bundle ${p.from.bundle ?? 'none'} -> ${p.to.bundle ?? 'none'}`);
  if (p.restore_backup !== null) parts.push(`data from backup ${p.restore_backup}`);
  return parts.join('; ') || 'no change of release or bundle';
};

/** The release a successful deployment left the app on, if it set one. */
export function releaseAfter(d: Deployment): AppRelease | null {
  if ((CHANGE_KINDS as readonly string[]).includes(d.kind))
    return changeParamsSchema.safeParse(d.params).data?.to ?? null;
  if (d.kind === 'create' && typeof d.params.pocketbase_version === 'string')
    return { version: d.params.pocketbase_version, bundle: null };
  return null;
}
