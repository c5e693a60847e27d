import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../db/database.js';
import type { DeploymentRow, DeploymentStatus, StepRow } from '../db/schema.js';
import { PocketdError, conflict, notFound } from '../errors.js';
import type { Logger } from '../log.js';
import { nowIso } from './clock.js';
import type { EventBus } from './events.js';

/** One step of a deployment: what it does, and how to undo it when a later step fails. */
export interface StepContext {
  /** Whether someone asked to cancel; long steps check it at their safe points. */
  cancelled(): boolean;
}

export interface StepDef {
  name: string;
  run: (ctx: StepContext) => Promise<string | void>;
  undo?: () => Promise<void>;
  /** Skip the step (recorded as skipped) when this says so at run time. */
  skip?: () => boolean;
}

export interface Deployment extends Omit<DeploymentRow, 'params'> {
  params: Record<string, unknown>;
  steps: Array<Omit<StepRow, 'deployment_id'>>;
}

/** Thrown at a safe point of a deployment that was asked to cancel. */
export class CancelledError extends Error {
  constructor(by: string) {
    super(`cancelled by ${by}`);
  }
}

/**
 * Runs deployments: ordered steps written to the store as they happen, undone in
 * reverse when one fails. One deployment per app at a time: a second is refused
 * with 409 DEPLOYMENT_IN_PROGRESS. A cancel takes effect at the next safe point
 * (between steps, or inside a long step that checks) and undoes what was done.
 */
export function createDeployments(db: Database, events: EventBus, log: Logger, opts: { stepPauseMs?: number } = {}) {
  const running = new Map<string, Promise<void>>();
  const done = new Map<number, Promise<void>>();
  const cancels = new Map<number, string | null>();

  async function get(id: number): Promise<Deployment> {
    const d = await db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
    if (!d) throw notFound('deployment', String(id));
    const steps = await db.selectFrom('deployment_steps').select(['id', 'position', 'name', 'status', 'message', 'started_at', 'finished_at'])
      .where('deployment_id', '=', id).orderBy('position').execute();
    return { ...d, params: JSON.parse(d.params) as Record<string, unknown>, steps };
  }

  async function setStep(deploymentId: number, position: number, app: string, patch: Partial<StepRow>) {
    await db.updateTable('deployment_steps').set(patch).where('deployment_id', '=', deploymentId).where('position', '=', position).execute();
    events.publish('deployment.step', app, { deployment_id: deploymentId, position, ...patch });
  }

  async function finish(id: number, app: string, status: DeploymentStatus, error: string | null) {
    await db.updateTable('deployments').set({ status, error, finished_at: nowIso() }).where('id', '=', id).execute();
    events.publish('deployment.finished', app, { deployment_id: id, status, error });
  }

  async function execute(id: number, app: string, steps: StepDef[], onFailure: 'failed' | 'rolled_back'): Promise<void> {
    await db.updateTable('deployments').set({ status: 'running', started_at: nowIso() }).where('id', '=', id).execute();
    events.publish('deployment.started', app, { deployment_id: id });
    const completed: StepDef[] = [];
    const ctx: StepContext = { cancelled: () => typeof cancels.get(id) === 'string' };
    for (const [i, step] of steps.entries()) {
      if (step.skip?.()) {
        await setStep(id, i, app, { status: 'skipped', message: 'not needed', finished_at: nowIso() });
        continue;
      }
      await setStep(id, i, app, { status: 'running', started_at: nowIso() });
      try {
        if (opts.stepPauseMs) await sleep(opts.stepPauseMs);
        if (ctx.cancelled()) throw new CancelledError(cancels.get(id)!);
        const message = await step.run(ctx);
        await setStep(id, i, app, { status: 'success', message: message ?? null, finished_at: nowIso() });
        completed.push(step);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        log.warn({ deployment: id, app, step: step.name, err: reason }, 'deployment step failed');
        await setStep(id, i, app, { status: 'failed', message: reason.slice(0, 4000), finished_at: nowIso() });
        for (let j = i + 1; j < steps.length; j++) await setStep(id, j, app, { status: 'skipped', message: 'an earlier step failed' });
        const undoErrors: string[] = [];
        for (const s of completed.reverse()) {
          try {
            await s.undo?.();
          } catch (undoErr) {
            undoErrors.push(`${s.name}: ${(undoErr as Error).message}`);
            log.error({ deployment: id, app, step: s.name, err: undoErr }, 'undo failed');
          }
        }
        const suffix = undoErrors.length ? `; undo also failed: ${undoErrors.join('; ')}` : '';
        const status = undoErrors.length ? 'failed' : err instanceof CancelledError ? 'cancelled' : onFailure;
        const what = err instanceof CancelledError ? `${reason} during step ${step.name}` : `step ${step.name} failed: ${reason}`;
        await finish(id, app, status, `${what}${suffix}`.slice(0, 8000));
        return;
      }
    }
    await finish(id, app, 'success', null);
  }

  /** Records a deployment with its steps as pending, runs it in the background, and returns its id. */
  async function start(input: {
    app: string; kind: string; actor: string; params?: Record<string, unknown>; steps: StepDef[];
    /** The status when a step fails and every undo succeeds: changes of a working app roll back, creates fail. */
    onFailure?: 'failed' | 'rolled_back';
  }): Promise<number> {
    if (running.has(input.app)) throw conflict('DEPLOYMENT_IN_PROGRESS', `app ${input.app} has a deployment in progress; wait for it to end`);
    // Claim the app before the first await so two requests cannot both start.
    let release!: () => void;
    running.set(input.app, new Promise<void>((r) => { release = r; }));
    try {
      const id = await db.transaction().execute(async (trx) => {
        const row = await trx.insertInto('deployments').values({
          app: input.app, kind: input.kind, status: 'pending', params: JSON.stringify(input.params ?? {}),
          actor: input.actor, created_at: nowIso(),
        }).returning('id').executeTakeFirstOrThrow();
        if (input.steps.length) {
          await trx.insertInto('deployment_steps').values(input.steps.map((s, position) => ({
            deployment_id: row.id, position, name: s.name, status: 'pending' as const,
          }))).execute();
        }
        return row.id;
      });
      events.publish('deployment.created', input.app, { deployment_id: id, kind: input.kind });
      cancels.set(id, null);
      const p = execute(id, input.app, input.steps, input.onFailure ?? 'failed').catch((err: unknown) => {
        log.error({ err, deployment: id }, 'deployment runner failed');
        return finish(id, input.app, 'failed', `internal error: ${(err as Error).message}`);
      }).finally(() => { running.delete(input.app); cancels.delete(id); release(); });
      done.set(id, p);
      void p.finally(() => done.delete(id));
      return id;
    } catch (err) {
      running.delete(input.app);
      release();
      throw err;
    }
  }

  /** Waits (bounded) until a deployment ends and returns it. */
  async function wait(id: number, timeoutMs = 300_000): Promise<Deployment> {
    const p = done.get(id);
    if (p) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([p, new Promise((_, reject) => { timer = setTimeout(() => reject(new PocketdError('TIMEOUT', `deployment ${id} did not finish in time`, { status: 504 })), timeoutMs); })])
        .finally(() => clearTimeout(timer));
    }
    return get(id);
  }

  async function list(filter: { app?: string; status?: DeploymentStatus; limit: number; before?: number }) {
    let q = db.selectFrom('deployments').selectAll().orderBy('id', 'desc').limit(filter.limit);
    if (filter.app) q = q.where('app', '=', filter.app);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.before) q = q.where('id', '<', filter.before);
    const rows = await q.execute();
    return rows.map((d) => ({ ...d, params: JSON.parse(d.params) as Record<string, unknown> }));
  }

  /** Asks a deployment to stop at its next safe point; 409 when it already ended. */
  async function cancel(id: number, by: string): Promise<Deployment> {
    const d = await get(id);
    if (!cancels.has(id)) throw conflict('NOT_CANCELLABLE', `deployment ${id} is ${d.status}; only pending or running deployments can be cancelled`);
    cancels.set(id, by);
    events.publish('deployment.cancel_requested', d.app, { deployment_id: id, by });
    return d;
  }

  /** Deployments a daemon that stopped left pending or running, oldest first. */
  async function interrupted(): Promise<Deployment[]> {
    const rows = await db.selectFrom('deployments').select('id').where('status', 'in', ['pending', 'running']).orderBy('id').execute();
    return Promise.all(rows.map((r) => get(r.id)));
  }

  /** Closes an interrupted deployment with the outcome of its recovery. */
  async function closeInterrupted(d: Deployment, status: DeploymentStatus, error: string | null): Promise<void> {
    await db.updateTable('deployment_steps').set({ status: 'failed', message: 'interrupted: pocketd stopped during this step', finished_at: nowIso() })
      .where('deployment_id', '=', d.id).where('status', '=', 'running').execute();
    await db.updateTable('deployment_steps').set({ status: 'skipped', message: 'interrupted' })
      .where('deployment_id', '=', d.id).where('status', '=', 'pending').execute();
    await finish(d.id, d.app, status, error);
  }

  /** Per app over the last `days`: count, success rate, mean and p95 duration of ended deployments. */
  async function stats(days: number) {
    const since = new Date(Date.now() - days * 86_400_000).toISOString();
    const rows = await db.selectFrom('deployments').select(['app', 'status', 'started_at', 'finished_at'])
      .where('created_at', '>=', since).where('status', 'not in', ['pending', 'running']).execute();
    const byApp = new Map<string, typeof rows>();
    for (const r of rows) byApp.set(r.app, [...(byApp.get(r.app) ?? []), r]);
    return [...byApp].sort(([a], [b]) => a.localeCompare(b)).map(([app, list]) => {
      const ms = list.filter((r) => r.started_at && r.finished_at).map((r) => Date.parse(r.finished_at!) - Date.parse(r.started_at!)).sort((a, b) => a - b);
      const ok = list.filter((r) => r.status === 'success').length;
      return {
        app, count: list.length, success: ok, success_rate: Math.round((ok / list.length) * 1000) / 1000,
        by_status: Object.fromEntries(['success', 'failed', 'rolled_back', 'cancelled'].map((st) => [st, list.filter((r) => r.status === st).length])),
        mean_ms: ms.length ? Math.round(ms.reduce((a, b) => a + b, 0) / ms.length) : null,
        p95_ms: ms.length ? ms[Math.min(ms.length - 1, Math.ceil(0.95 * ms.length) - 1)]! : null,
      };
    });
  }

  async function countByStatus(): Promise<Array<{ status: string; count: number }>> {
    const rows = await db.selectFrom('deployments').select(['status', (eb) => eb.fn.countAll<number>().as('count')]).groupBy('status').execute();
    return rows.map((r) => ({ status: r.status, count: Number(r.count) }));
  }

  const busy = (app: string) => running.has(app);
  const idle = async () => { await Promise.allSettled([...running.values()]); };

  return { start, get, wait, list, cancel, interrupted, closeInterrupted, stats, busy, idle, countByStatus };
}

export type Deployments = ReturnType<typeof createDeployments>;
