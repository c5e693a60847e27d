import type { Database } from '../db/database.js';
import { PocketdError, conflict, fieldError } from '../errors.js';
import type { Privileged } from '../host/privileged.js';
import type { ReleaseSource } from '../host/releases.js';
import type { AppHost } from './app-host.js';
import type { AppSettings } from './app-model.js';
import type { Backups } from './backups.js';
import type { Bundles } from './bundles.js';
import { nowIso } from './clock.js';
import {
  CancelledError,
  type Deployment,
  type Deployments,
  type Plan,
  type Queued,
  type StepContext,
  type StepDef,
} from './deployments.js';
import type { EventBus } from './events.js';

/** What an app runs: a PocketBase release and, optionally, a bundle. */
export interface Release {
  version: string;
  bundle: number | null;
}

/** The params every change records; recovery after a crash reads them back. */
export interface ChangeParams {
  from: Release;
  to: Release;
  /** A backup whose data is put in place as part of the change. */
  restore_backup: number | null;
  was_running: boolean;
  [key: string]: unknown;
}

export const CHANGE_KINDS = ['upgrade', 'deploy', 'rollback', 'restore'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export interface ChangesDeps {
  db: Database;
  host: AppHost;
  privileged: Privileged;
  releases: ReleaseSource;
  bundles: Bundles;
  backups: Backups;
  deployments: Deployments;
  events: EventBus;
  loadSettings(
    name: string,
  ): Promise<{ row: { status: string; bundle: number | null; desired_state: string }; settings: AppSettings }>;
}

/**
 * Changes to what a working app runs: upgrades, bundle deploys, rollbacks and
 * restores. Each one stops the app, snapshots its data, switches, starts and
 * passes the health gate; a failure or a cancel undoes every step in reverse
 * (data included) and the deployment ends `rolled_back` or `cancelled`.
 */
export function createChanges(deps: ChangesDeps) {
  const { db, host, privileged } = deps;

  /** When its turn comes: the app as it is now (a change queued behind another starts from what that one left). */
  async function begin(app: string) {
    const { row, settings } = await deps.loadSettings(app);
    if (row.status !== 'ready') throw new Error(`app ${app} is ${row.status}`);
    const running = (await host.unitDetails(app))?.active_state === 'active';
    return { settings, current: { version: settings.version, bundle: row.bundle }, running };
  }

  /** When it is asked: an app that exists and is, or is becoming, ready (a change asked during its create waits for it). */
  async function precheck(app: string) {
    const { row, settings } = await deps.loadSettings(app);
    if (row.status !== 'ready' && row.status !== 'creating')
      throw conflict('APP_NOT_READY', `app ${app} is ${row.status}`);
    return { row, settings };
  }

  /** The steps of one change, from what runs now to `to`. */
  function steps(app: string, settings: AppSettings, p: ChangeParams, ref: { id: number }): StepDef[] {
    const next: AppSettings = { ...settings, version: p.to.version };
    const newRelease = p.to.version !== p.from.version;
    const newBundle = p.to.bundle !== null && p.to.bundle !== p.from.bundle;
    let snapshot: number | null = null;
    const gate = async (ctx: StepContext) => {
      const r = await host.waitHealthy(app, settings.port, () => ctx.cancelled());
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
      // Always stopped, whatever state was read before: an app waiting to restart (auto-restart) is stopped too.
      {
        name: 'stop',
        run: async () => {
          await privileged.run('stop', [app]);
        },
        undo: async () => {
          await privileged.run('start', [app]);
          await host.waitHealthy(app, settings.port);
        },
      },
      {
        name: 'snapshot',
        run: async () => {
          const b = await deps.backups.create(app, 'pre-deploy', ref.id);
          snapshot = b.id;
          return `backup ${b.id} (${b.size_bytes ?? 0} bytes)`;
        },
        undo: async () => {
          if (snapshot !== null) await deps.backups.restoreFiles(app, snapshot);
        },
      },
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
          await privileged.run('start', [app]);
        },
        undo: async () => {
          await privileged.run('stop', [app]);
        },
      },
      { name: 'wait_health', run: gate },
      {
        name: 'finish',
        run: async () => {
          await save(app, p.to);
        },
      },
    ];
  }

  async function save(app: string, to: Release) {
    await db
      .updateTable('apps')
      .set({ version: to.version, bundle: to.bundle, desired_state: 'running', updated_at: nowIso() })
      .where('name', '=', app)
      .execute();
    deps.events.publish('app.changed', app, { ...to });
  }

  type Began = Awaited<ReturnType<typeof begin>>;

  /** A change's plan from what `begin` read when its turn came. */
  function plan(
    id: number,
    began: Began,
    to: Release,
    restoreBackup: number | null,
    extra: Record<string, unknown> = {},
  ): Plan {
    const { settings, current, running } = began;
    const params: ChangeParams = { from: current, to, restore_backup: restoreBackup, was_running: running, ...extra };
    return { params, steps: steps(settings.name, settings, params, { id }), onFailure: 'rolled_back' };
  }

  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  deps.deployments.register('upgrade', async ({ id, app, params }) => {
    const began = await begin(app);
    const version = String(params.version);
    if (version === began.current.version) throw new Error(`app ${app} already runs PocketBase ${version}`);
    return plan(id, began, { version, bundle: began.current.bundle }, null);
  });
  deps.deployments.register('deploy', async ({ id, app, params }) => {
    const began = await begin(app);
    return plan(id, began, { version: began.current.version, bundle: num(params.bundle) }, null);
  });
  deps.deployments.register('rollback', async ({ id, app, params }) => {
    const began = await begin(app);
    // A deployment from before any bundle leaves the bundle in place as it is.
    const to: Release = { version: String(params.to_version), bundle: num(params.to_bundle) ?? began.current.bundle };
    return plan(id, began, to, num(params.restore_backup), { target_deployment: params.target_deployment });
  });
  deps.deployments.register('restore', async ({ id, app, params }) => {
    const began = await begin(app);
    return plan(id, began, began.current, num(params.restore_backup));
  });

  async function upgrade(app: string, version: string, actor: string): Promise<Queued> {
    const { settings } = await precheck(app);
    // Behind other operations the version it will run is not known yet; its turn checks again.
    if (version === settings.version && !deps.deployments.busy(app))
      throw fieldError('version', 'SAME_VERSION', `app ${app} already runs PocketBase ${version}`);
    const releases = await deps.releases.list().catch((err: unknown) => {
      throw new PocketdError('RELEASE_SOURCE_UNAVAILABLE', (err as Error).message);
    });
    if (!releases.some((r) => r.version === version))
      throw fieldError('version', 'VERSION_NOT_FOUND', `PocketBase ${version} does not exist at the release source`);
    return deps.deployments.enqueue({ app, kind: 'upgrade', actor, params: { version } });
  }

  /** With `supersede`, deploys of the app still waiting end `superseded`: two quick pushes deploy the newest once. */
  async function deploy(app: string, bundle: number, actor: string, supersede = false): Promise<Queued> {
    await precheck(app);
    await deps.bundles.get(app, bundle).catch(() => {
      throw fieldError('bundle', 'BUNDLE_NOT_FOUND', `app ${app} has no bundle ${bundle}`);
    });
    return deps.deployments.enqueue({ app, kind: 'deploy', actor, params: { bundle }, supersede });
  }

  /** Back to the release and bundle an earlier successful deployment left, and with `data`, to the data it ran with. */
  async function rollback(app: string, deploymentId: number, data: boolean, actor: string): Promise<Queued> {
    const target = await deps.deployments.get(deploymentId).catch(() => {
      throw fieldError('deployment_id', 'DEPLOYMENT_NOT_FOUND', `no deployment ${deploymentId}`);
    });
    if (target.app !== app)
      throw fieldError('deployment_id', 'OTHER_APP', `deployment ${deploymentId} belongs to app ${target.app}`);
    if (target.status !== 'success')
      throw fieldError(
        'deployment_id',
        'NOT_SUCCESSFUL',
        `deployment ${deploymentId} ended ${target.status}; only successful deployments can be returned to`,
      );
    const after = releaseAfter(target);
    if (!after)
      throw fieldError(
        'deployment_id',
        'NOT_A_RELEASE',
        `deployment ${deploymentId} (${target.kind}) did not set a release`,
      );
    await precheck(app);
    let restore: number | null = null;
    if (data) {
      // The data as it stood when that deployment was replaced: the snapshot of the next change.
      const b = await db
        .selectFrom('backups')
        .innerJoin('deployments', 'deployments.id', 'backups.deployment_id')
        .select('backups.id')
        .where('backups.app', '=', app)
        .where('backups.kind', '=', 'pre-deploy')
        .where('backups.status', '=', 'ready')
        .where('deployments.id', '>', deploymentId)
        .orderBy('deployments.id')
        .limit(1)
        .executeTakeFirst();
      if (!b)
        throw fieldError('data', 'NO_SNAPSHOT', `no snapshot of the data after deployment ${deploymentId} exists`);
      restore = b.id;
    }
    return deps.deployments.enqueue({
      app,
      kind: 'rollback',
      actor,
      params: {
        target_deployment: deploymentId,
        to_version: after.version,
        to_bundle: after.bundle,
        restore_backup: restore,
      },
    });
  }

  async function restore(app: string, backupId: number, actor: string): Promise<Queued> {
    const b = await deps.backups.get(app, backupId);
    if (b.status !== 'ready') throw conflict('BACKUP_NOT_READY', `backup ${backupId} is ${b.status}`);
    await precheck(app);
    return deps.deployments.enqueue({ app, kind: 'restore', actor, params: { restore_backup: backupId } });
  }

  /**
   * A change the daemon was killed in the middle of: finished when the new
   * release already passes the health gate, otherwise rolled back from what the
   * steps recorded. Returns the outcome for the deployment's record.
   */
  async function recover(d: Deployment): Promise<{ status: 'success' | 'rolled_back' | 'failed'; error: string }> {
    const p = d.params as unknown as ChangeParams;
    const stepDone = (name: string) =>
      d.steps.some((s) => s.name === name && (s.status === 'success' || s.status === 'running'));
    const app = d.app;
    const { settings } = await deps.loadSettings(app);
    if (stepDone('start') || stepDone('wait_health') || stepDone('finish')) {
      try {
        await host.waitHealthy(app, settings.port);
        await save(app, p.to);
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
    const snap = await db
      .selectFrom('backups')
      .select('id')
      .where('deployment_id', '=', d.id)
      .where('kind', '=', 'pre-deploy')
      .where('status', '=', 'ready')
      .executeTakeFirst();
    if (
      snap &&
      (stepDone('restore_data') || stepDone('install_release') || stepDone('install_bundle') || stepDone('start'))
    ) {
      await deps.backups.restoreFiles(app, snap.id);
      undone.push(`data from snapshot ${snap.id}`);
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

  return { upgrade, deploy, rollback, restore, recover };
}

const describe = (p: ChangeParams): string => {
  const parts: string[] = [];
  if (p.from.version !== p.to.version) parts.push(`PocketBase ${p.from.version} -> ${p.to.version}`);
  if (p.to.bundle !== p.from.bundle) parts.push(`bundle ${p.from.bundle ?? 'none'} -> ${p.to.bundle ?? 'none'}`);
  if (p.restore_backup !== null) parts.push(`data from backup ${p.restore_backup}`);
  return parts.join('; ') || 'no change of release or bundle';
};

/** The release a successful deployment left the app on, if it set one. */
export function releaseAfter(d: Deployment): Release | null {
  if ((CHANGE_KINDS as readonly string[]).includes(d.kind)) return (d.params as unknown as ChangeParams).to;
  if (d.kind === 'create' && typeof d.params.pocketbase_version === 'string')
    return { version: d.params.pocketbase_version, bundle: null };
  return null;
}

export type Changes = ReturnType<typeof createChanges>;
