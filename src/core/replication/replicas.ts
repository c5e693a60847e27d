import type { Database } from '../../db/database.js';
import type { Privileged } from '../../host/privileged.js';
import { PocketdError, fieldError, notFound } from '../../shared/errors.js';
import {
  redactTarget,
  replicaSpecSchema,
  replicaTargetSchema,
  type ReplicaSpec,
  type ReplicaTarget,
} from '../../shared/replica-rules.js';
import { REPLICA_STATUSES_MAX } from '../../shared/replica-rules.js';
import { askStatuses, statusUpdate } from './replica-status.js';
import { appStore } from '../apps/store.js';
import { nowIso } from '../clock.js';
import type { Logger } from '../../shared/log.js';

/** What the API may say about an app's replica: the target without its secrets, and its last status. */
export interface ReplicaView {
  app: string;
  app_id: string;
  target: Record<string, string | number | boolean>;
  sync_seconds: number;
  retention_hours: number;
  unit: string;
  status: {
    checked_at: string | null;
    generation: string | null;
    generations: number | null;
    last_sync_at: string | null;
    lag_seconds: number | null;
    error: string | null;
  };
  created_at: string;
  updated_at: string;
}

export interface ReplicaInput {
  target: ReplicaTarget;
  sync_seconds?: number;
  retention_hours?: number;
}

/** The one message of a helper failure worth showing: its last words, no longer than a line or three. */
const said = (err: unknown) => (err as Error).message.slice(0, 1000);

/**
 * An app's off-host replica (issue #27): its target, kept with its secrets in
 * the daemon's store and handed to the root helper only as a typed spec, and
 * its status as Litestream reports it. A target is tried (listed with its
 * credentials, from the replica's own sandbox) before it is saved.
 */
export function createReplicas(deps: {
  db: Database;
  privileged: Privileged;
  log: Logger;
  onStatus?: (app: string, view: ReplicaView) => Promise<void>;
}) {
  const { db, privileged } = deps;
  const apps = appStore(db);

  async function row(app: string) {
    const { row: a } = await apps.load(app);
    const r = await db.selectFrom('replicas').selectAll().where('app_id', '=', a.app_id).executeTakeFirst();
    return { appRow: a, replica: r ?? null };
  }

  function view(r: NonNullable<Awaited<ReturnType<typeof row>>['replica']>): ReplicaView {
    return {
      app: r.app,
      app_id: r.app_id,
      target: redactTarget(replicaTargetSchema.parse(JSON.parse(r.target))),
      sync_seconds: r.sync_seconds,
      retention_hours: r.retention_hours,
      unit: `pocketd-replica-${r.app}.service`,
      status: {
        checked_at: r.checked_at,
        generation: r.generation,
        generations: r.generations,
        last_sync_at: r.last_sync_at,
        lag_seconds: r.lag_seconds,
        error: r.error,
      },
      created_at: r.created_at,
      updated_at: r.updated_at,
    };
  }

  /** The spec the helper takes for an app's replica (secrets included): for the helper's stdin only. */
  async function specOf(app: string): Promise<ReplicaSpec> {
    const { replica } = await row(app);
    if (!replica) throw notFound('replica of app', app);
    return replicaSpecSchema.parse({
      app_id: replica.app_id,
      target: JSON.parse(replica.target) as unknown,
      sync_seconds: replica.sync_seconds,
      retention_hours: replica.retention_hours,
    });
  }

  /** Tries the target, then saves it and (re)starts the app's replica unit. */
  async function set(app: string, input: ReplicaInput): Promise<ReplicaView> {
    const { row: a } = await apps.admit(app, 'working');
    if (a.status !== 'ready') throw new PocketdError('APP_NOT_READY', `app ${app} is ${a.status}`);
    await check(app, input.target);
    return save(app, a.app_id, input);
  }

  /** Saves the target of an app (tried already) and (re)starts its replica unit: within a set or a recover. */
  async function save(app: string, appId: string, input: ReplicaInput): Promise<ReplicaView> {
    const a = { app_id: appId };
    const spec = replicaSpecSchema.parse({ app_id: a.app_id, ...input });
    const at = nowIso();
    const values = {
      app,
      target: JSON.stringify(spec.target),
      sync_seconds: spec.sync_seconds,
      retention_hours: spec.retention_hours,
      updated_at: at,
    };
    await db
      .insertInto('replicas')
      .values({ app_id: a.app_id, created_at: at, ...values })
      .onConflict((oc) => oc.column('app_id').doUpdateSet({ ...values, error: null }))
      .execute();
    try {
      await privileged.run('replica-install', [app], { spec, timeoutMs: 120_000 });
    } catch (err) {
      await db
        .updateTable('replicas')
        .set({ error: said(err) })
        .where('app_id', '=', a.app_id)
        .execute();
      throw new PocketdError('OPERATION_FAILED', `the replica of ${app} could not be installed: ${said(err)}`);
    }
    deps.log.info({ app, type: spec.target.type }, 'replica target set');
    return (await get(app))!;
  }

  /** A target is saved only once its credentials list it (a 422 naming `target` otherwise). */
  async function check(app: string, target: ReplicaTarget): Promise<void> {
    try {
      await privileged.run('replica-check', [app], { spec: { target }, timeoutMs: 60_000 });
    } catch (err) {
      throw fieldError('target', 'REPLICA_UNREACHABLE', `the target did not answer as it should: ${said(err)}`);
    }
  }

  async function get(app: string): Promise<ReplicaView | null> {
    const { replica } = await row(app);
    return replica ? view(replica) : null;
  }

  /** Stops replicating; what the target holds stays there (deleting it is the target owner's choice). */
  async function remove(app: string): Promise<void> {
    const { appRow, replica } = await row(app);
    if (!replica) throw notFound('replica of app', app);
    await privileged.run('replica-remove', [app]);
    await db.deleteFrom('replicas').where('app_id', '=', appRow.app_id).execute();
  }

  /** A deleted app's replica unit and credentials go; its row is kept no longer (the target keeps the data). */
  async function forget(app: string): Promise<void> {
    const r = await db.selectFrom('replicas').select('app_id').where('app', '=', app).execute();
    if (r.length === 0) return;
    await privileged.run('replica-remove', [app]);
    const live = await db.selectFrom('apps').select('app_id').where('name', '=', app).executeTakeFirst();
    for (const { app_id } of r)
      if (app_id !== live?.app_id) await db.deleteFrom('replicas').where('app_id', '=', app_id).execute();
  }

  /** Asks Litestream what the target holds of the app's data.db now, records it, and answers the view. */
  async function refresh(app: string): Promise<ReplicaView> {
    const { replica } = await row(app);
    if (!replica) throw notFound('replica of app', app);
    await refreshMany([app]);
    return (await get(app))!;
  }

  /**
   * The status of every app with a replica (the watch's round): one helper call
   * for up to REPLICA_STATUSES_MAX apps instead of one an app, each recorded
   * and judged as `refresh` does.
   */
  async function refreshAll(): Promise<void> {
    const all = await names();
    for (let i = 0; i < all.length; i += REPLICA_STATUSES_MAX)
      await refreshMany(all.slice(i, i + REPLICA_STATUSES_MAX));
  }

  async function refreshMany(slice: string[]): Promise<void> {
    const at = nowIso();
    const reports = await askStatuses(privileged, slice);
    for (const app of slice) {
      const r = reports.get(app);
      const appRow = await apps.load(app).catch(() => null);
      if (!appRow) continue;
      await db.updateTable('replicas').set(statusUpdate(at, r)).where('app_id', '=', appRow.row.app_id).execute();
      const v = await get(app);
      if (v) await deps.onStatus?.(app, v);
    }
  }

  /** Apps with a replica, by name. */
  const names = async () =>
    (
      await db
        .selectFrom('replicas')
        .innerJoin('apps', 'apps.app_id', 'replicas.app_id')
        .select('apps.name')
        .orderBy('apps.name')
        .execute()
    ).map((r) => r.name);

  return { set, save, get, remove, refresh, refreshAll, specOf, names, check, forget };
}

export type Replicas = ReturnType<typeof createReplicas>;
