import { z } from 'zod';
import { PocketdError, conflict, fieldError } from '../../shared/errors.js';
import {
  changeSteps,
  recoverChange,
  releaseAfter,
  type AppRelease,
  type ChangeDeps,
  type ChangeParams,
} from './plan.js';
import type { Deployment, Plan, Queued } from '../deployments/engine.js';
import { crossesBack, downgradeRefusal } from './upgrade-notes.js';
import { assertNoCron } from '../sleep/cron-hooks.js';
import { isDowngrade } from './version-order.js';
import { appOutcome } from '../deployments/outcome.js';

const nullableId = z.number().int().nullable().default(null);

/**
 * Changes to what a working app runs: upgrades, bundle deploys, rollbacks and
 * restores. Each one stops the app, snapshots its data, switches, starts and
 * passes the health gate; a failure or a cancel undoes every step in reverse
 * (data included) and the deployment ends `rolled_back` or `cancelled`.
 */
export function createChanges(deps: ChangeDeps) {
  const { store, deployments } = deps;

  async function save(app: string, to: AppRelease) {
    await store.setRelease(app, to);
    deps.events.publish('app.changed', app, { ...to });
  }

  /** A change's plan from the app as it is when its turn comes (a change queued behind another starts from what that one left). */
  async function plan(
    app: string,
    to: (current: AppRelease) => AppRelease,
    restoreBackup: number | null,
    extra: Record<string, unknown> = {},
  ): Promise<Plan> {
    const { row, settings } = await store.readyAtTurn(app);
    const running = (await deps.host.unitDetails(app))?.active_state === 'active';
    const from = { version: settings.version, bundle: row.bundle };
    const params: ChangeParams = {
      from,
      to: to(from),
      restore_backup: restoreBackup,
      was_running: running,
      ...extra,
    };
    return {
      params,
      steps: changeSteps(deps, settings, params, () => save(app, params.to)),
      onFailure: 'rolled_back',
      outcome: (status) => appOutcome(deps, app, status),
    };
  }

  const recover = (d: Deployment) => recoverChange(deps, d, (to) => save(d.app, to));

  deployments.register('upgrade', {
    params: z.object({
      version: z.string(),
      trial: z.boolean().default(true),
      allow_downgrade: z.boolean().default(false),
    }),
    plan: ({ app, params }) =>
      plan(
        app,
        (cur) => {
          if (params.version === cur.version) throw new Error(`app ${app} already runs PocketBase ${params.version}`);
          // Checked again in its turn: what ran before it may have moved the app past the version asked for.
          if (!params.allow_downgrade && isDowngrade(cur.version, params.version))
            throw new Error(plainDowngradeRefusal(cur.version, params.version));
          return { version: params.version, bundle: cur.bundle };
        },
        null,
        // An upgrade trial-boots its release on a copy first; a rollback returns to a release the app ran.
        { trial: params.trial, allow_downgrade: params.allow_downgrade },
      ),
    recover,
  });
  deployments.register('deploy', {
    params: z.object({ bundle: z.number().int() }),
    plan: ({ app, params }) => plan(app, (cur) => ({ version: cur.version, bundle: params.bundle }), null),
    recover,
  });
  deployments.register('rollback', {
    params: z.object({
      target_deployment: z.number().int(),
      to_version: z.string(),
      to_bundle: nullableId,
      restore_backup: nullableId,
    }),
    // A deployment from before any bundle leaves the bundle in place as it is.
    plan: ({ app, params: p }) =>
      plan(app, (cur) => ({ version: p.to_version, bundle: p.to_bundle ?? cur.bundle }), p.restore_backup, {
        target_deployment: p.target_deployment,
      }),
    recover,
  });
  deployments.register('restore', {
    params: z.object({ restore_backup: z.number().int() }),
    plan: ({ app, params }) => plan(app, (cur) => cur, params.restore_backup),
    recover,
  });

  async function upgrade(
    app: string,
    version: string,
    actor: string,
    trial = true,
    allowDowngrade = false,
  ): Promise<Queued> {
    const { settings } = await store.admit(app, 'working');
    // Behind other operations the version it will run is not known yet; its turn checks again.
    if (version === settings.version && !deployments.busy(app))
      throw fieldError('version', 'SAME_VERSION', `app ${app} already runs PocketBase ${version}`);
    if (!deployments.busy(app) && crossesBack(settings.version, version))
      throw fieldError('version', 'DOWNGRADE_UNSUPPORTED', downgradeRefusal(settings.version, version));
    // Going back is never a surprise: only asked for in so many words (the same check runs again in its turn).
    if (!allowDowngrade && isDowngrade(settings.version, version))
      throw fieldError('version', 'DOWNGRADE', plainDowngradeRefusal(settings.version, version));
    const releases = await deps.releases.list().catch((err: unknown) => {
      throw new PocketdError('RELEASE_SOURCE_UNAVAILABLE', (err as Error).message);
    });
    if (!releases.some((r) => r.version === version))
      throw fieldError('version', 'VERSION_NOT_FOUND', `PocketBase ${version} does not exist at the release source`);
    return deployments.enqueue({
      app,
      kind: 'upgrade',
      actor,
      params: { version, trial, allow_downgrade: allowDowngrade },
    });
  }

  /** With `supersede`, deploys of the app still waiting end `superseded`: two quick pushes deploy the newest once. */
  async function deploy(app: string, bundle: number, actor: string, supersede = false): Promise<Queued> {
    const { settings } = await store.admit(app, 'working');
    const kept = await deps.bundles.get(app, bundle).catch(() => {
      throw fieldError('bundle', 'BUNDLE_NOT_FOUND', `app ${app} has no bundle ${bundle}`);
    });
    // An app that may sleep would not run the jobs a bundle's hooks schedule: refused, not deployed half-working.
    if (settings.sleep_after !== null) await assertNoCron(kept.file, 'bundle');
    return deployments.enqueue({ app, kind: 'deploy', actor, params: { bundle }, supersede });
  }

  /** Back to the release and bundle an earlier successful deployment left, and with `data`, to the data it ran with. */
  async function rollback(app: string, deploymentId: number, data: boolean, actor: string): Promise<Queued> {
    const target = await deployments.get(deploymentId).catch(() => {
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
    const { settings } = await store.admit(app, 'working');
    if (!data && crossesBack(settings.version, after.version))
      throw fieldError(
        'data',
        'DOWNGRADE_UNSUPPORTED',
        `PocketBase ${after.version} cannot read the data PocketBase ${settings.version} keeps (0.23 changed its schema): roll back with the data`,
      );
    let restore: number | null = null;
    if (data) {
      // The data as it stood when that deployment was replaced: the snapshot of the next change.
      restore = await deps.backups.snapshotAfter(app, deploymentId);
      if (restore === null)
        throw fieldError('data', 'NO_SNAPSHOT', `no snapshot of the data after deployment ${deploymentId} exists`);
    }
    return deployments.enqueue({
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
    await store.admit(app, 'working');
    return deployments.enqueue({ app, kind: 'restore', actor, params: { restore_backup: backupId } });
  }

  return { upgrade, deploy, rollback, restore };
}

export type Changes = ReturnType<typeof createChanges>;

const plainDowngradeRefusal = (from: string, to: string) =>
  `PocketBase ${to} is older than ${from}, which the app runs; a downgrade is refused unless asked for with allow_downgrade: true (its data may not open in the older release: take a backup first)`;
