import type { OperationKind } from '../../contract/operations.js';
import { sql } from '../../db/kysely.js';
import type { Database } from '../../db/database.js';
import type { DeploymentRow, DeploymentStatus, StepRow } from '../../db/schema.js';
import { notFound } from '../../shared/errors.js';
import { compareStrings } from '../../shared/order.js';
import { nowIso } from '../clock.js';
import type { StepPatch } from './steps.js';
import { decodeOutcome, type DeploymentOutcome } from './outcome.js';

export interface Deployment extends Omit<DeploymentRow, 'params' | 'outcome'> {
  params: Record<string, unknown>;
  outcome: DeploymentOutcome | null;
  steps: Array<Omit<StepRow, 'deployment_id'>>;
}

const decode = (params: string) => JSON.parse(params) as Record<string, unknown>;

/**
 * The one place that reads and writes the `deployments`, `deployment_steps`
 * and `deployment_inputs` tables: the record of every operation, its steps,
 * and the input it keeps apart (secrets) until it ends.
 */
export function deploymentStore(db: Database) {
  async function get(id: number): Promise<Deployment> {
    const d = await db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
    if (!d) throw notFound('deployment', String(id));
    const steps = await db
      .selectFrom('deployment_steps')
      .select(['id', 'position', 'name', 'status', 'message', 'started_at', 'finished_at', 'undo'])
      .where('deployment_id', '=', id)
      .orderBy('position')
      .execute();
    return { ...d, params: decode(d.params), outcome: decodeOutcome(d.outcome), steps };
  }

  /** Whether a deployment was asked of the app that has its name now (not of a deleted one of the same name). */
  async function ofPresentApp(d: { app: string; app_id: string | null }): Promise<boolean> {
    const a = await db.selectFrom('apps').select('app_id').where('name', '=', d.app).executeTakeFirst();
    return a !== undefined && a.app_id === d.app_id;
  }

  /** Records a deployment (and its input apart from it) in one transaction. */
  async function insert(
    row: {
      app: string;
      kind: OperationKind;
      actor: string;
      status: 'queued' | 'pending';
      params: Record<string, unknown>;
    },
    input: unknown,
  ): Promise<number> {
    return db.transaction().execute(async (trx) => {
      const r = await trx
        .insertInto('deployments')
        .values({
          ...row,
          // The identity of the app it is asked of: a later app of the same name does not inherit it.
          app_id: sql<string | null>`(select app_id from apps where name = ${row.app})`,
          params: JSON.stringify(row.params),
          created_at: nowIso(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (input !== undefined)
        await trx
          .insertInto('deployment_inputs')
          .values({ deployment_id: r.id, input: JSON.stringify(input) })
          .execute();
      return r.id;
    });
  }

  async function input(id: number): Promise<unknown> {
    const r = await db
      .selectFrom('deployment_inputs')
      .select('input')
      .where('deployment_id', '=', id)
      .executeTakeFirst();
    return r ? (JSON.parse(r.input) as unknown) : null;
  }

  async function setStep(id: number, position: number, patch: StepPatch): Promise<void> {
    await db
      .updateTable('deployment_steps')
      .set(patch)
      .where('deployment_id', '=', id)
      .where('position', '=', position)
      .execute();
  }

  async function insertSteps(id: number, names: string[]): Promise<void> {
    if (names.length === 0) return;
    await db
      .insertInto('deployment_steps')
      .values(names.map((name, position) => ({ deployment_id: id, position, name, status: 'pending' as const })))
      .execute();
  }

  /** Records how a deployment ended and drops its input; with `onlyIfQueued`, only if it had not started. */
  async function end(id: number, status: DeploymentStatus, error: string | null, onlyIfQueued = false) {
    let q = db.updateTable('deployments').set({ status, error, finished_at: nowIso() }).where('id', '=', id);
    if (onlyIfQueued) q = q.where('status', '=', 'queued');
    if (Number((await q.executeTakeFirst()).numUpdatedRows) !== 1) return false;
    await db.deleteFrom('deployment_inputs').where('deployment_id', '=', id).execute();
    return true;
  }

  /** Takes a queued deployment for running; false when a cancel or a supersede ended it first. */
  async function claim(id: number): Promise<boolean> {
    const r = await db
      .updateTable('deployments')
      .set({ status: 'pending' })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  const set = async (
    id: number,
    patch: Partial<Pick<DeploymentRow, 'status' | 'started_at' | 'params' | 'outcome'>>,
  ) => {
    await db.updateTable('deployments').set(patch).where('id', '=', id).execute();
  };

  /** Deployments of an app that wait, oldest first. */
  const queuedOf = (app: string) =>
    db
      .selectFrom('deployments')
      .select(['id', 'kind', 'actor', 'params'])
      .where('app', '=', app)
      .where('status', '=', 'queued')
      .orderBy('id')
      .execute();

  /** Deployments a daemon that stopped left pending or running, oldest first. */
  async function interrupted(): Promise<Deployment[]> {
    const rows = await db
      .selectFrom('deployments')
      .select('id')
      .where('status', 'in', ['pending', 'running'])
      .orderBy('id')
      .execute();
    return Promise.all(rows.map((r) => get(r.id)));
  }

  /** Marks the steps a stop of the daemon cut short: the running one failed, the rest skipped. */
  async function interruptSteps(id: number): Promise<void> {
    await db
      .updateTable('deployment_steps')
      .set({ status: 'failed', message: 'interrupted: pocketd stopped during this step', finished_at: nowIso() })
      .where('deployment_id', '=', id)
      .where('status', '=', 'running')
      .execute();
    await db
      .updateTable('deployment_steps')
      .set({ status: 'skipped', message: 'interrupted' })
      .where('deployment_id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  }

  async function list(filter: { app?: string; status?: DeploymentStatus; limit: number; before?: number }) {
    let q = db.selectFrom('deployments').selectAll().orderBy('id', 'desc').limit(filter.limit);
    if (filter.app) {
      const app = filter.app;
      // Only the present app's history; a deleted app's (no app of that name now) stays listed under its name.
      q = q
        .where('app', '=', app)
        .where((eb) =>
          eb.or([
            eb.not(eb.exists(eb.selectFrom('apps').select('name').where('name', '=', app))),
            eb('app_id', '=', eb.selectFrom('apps').select('app_id').where('name', '=', app)),
          ]),
        );
    }
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.before) q = q.where('id', '<', filter.before);
    return (await q.execute()).map((d) => ({ ...d, params: decode(d.params), outcome: decodeOutcome(d.outcome) }));
  }

  /** Per app over the last `days`: count, success rate, mean and p95 duration of ended deployments. */
  async function stats(days: number) {
    const since = new Date(Date.now() - days * 86_400_000).toISOString();
    const rows = await db
      .selectFrom('deployments')
      .select(['app', 'status', 'started_at', 'finished_at'])
      .where('created_at', '>=', since)
      .where('status', 'not in', ['queued', 'pending', 'running'])
      .execute();
    const byApp = new Map<string, typeof rows>();
    for (const r of rows) byApp.set(r.app, [...(byApp.get(r.app) ?? []), r]);
    return [...byApp]
      .sort(([a], [b]) => compareStrings(a, b))
      .map(([app, list]) => {
        const ms = list
          .filter((r) => r.started_at && r.finished_at)
          .map((r) => Date.parse(r.finished_at!) - Date.parse(r.started_at!))
          .sort((a, b) => a - b);
        const ok = list.filter((r) => r.status === 'success').length;
        return {
          app,
          count: list.length,
          success: ok,
          success_rate: Math.round((ok / list.length) * 1000) / 1000,
          by_status: Object.fromEntries(
            ['success', 'failed', 'rolled_back', 'cancelled', 'superseded'].map((st) => [
              st,
              list.filter((r) => r.status === st).length,
            ]),
          ),
          mean_ms: ms.length ? Math.round(ms.reduce((a, b) => a + b, 0) / ms.length) : null,
          p95_ms: ms.length ? ms[Math.min(ms.length - 1, Math.ceil(0.95 * ms.length) - 1)]! : null,
        };
      });
  }

  async function countByStatus(): Promise<Array<{ status: string; count: number }>> {
    const rows = await db
      .selectFrom('deployments')
      .select(['status', (eb) => eb.fn.countAll<number>().as('count')])
      .groupBy('status')
      .execute();
    return rows.map((r) => ({ status: r.status, count: Number(r.count) }));
  }

  const queuedApps = async () =>
    (await db.selectFrom('deployments').select('app').distinct().where('status', '=', 'queued').execute()).map(
      (r) => r.app,
    );

  return {
    get,
    insert,
    input,
    setStep,
    insertSteps,
    end,
    claim,
    set,
    queuedOf,
    queuedApps,
    interrupted,
    interruptSteps,
    list,
    ofPresentApp,
    stats,
    countByStatus,
  };
}

export type DeploymentStore = ReturnType<typeof deploymentStore>;
