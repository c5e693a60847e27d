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

/** What a queued operation turns into when its turn comes: its steps, built from the app as it is then. */
export interface Plan {
  steps: StepDef[];
  /** Replaces the recorded params once it starts (what recovery after a crash reads back). */
  params?: Record<string, unknown>;
  /** The status when a step fails and every undo succeeds: changes of a working app roll back, creates fail. */
  onFailure?: 'failed' | 'rolled_back';
  /** Runs after the deployment ended, whatever its status. */
  after?: (status: DeploymentStatus) => Promise<void>;
}

/** Builds a kind's plan; `input` is what the request stored apart from the public params (or null). */
export type Planner = (d: {
  id: number;
  app: string;
  actor: string;
  params: Record<string, unknown>;
  input: unknown;
}) => Promise<Plan>;

/** A deployment recorded to run when the ones before it for the same app have ended. */
export interface Queued {
  deployment_id: number;
  status: 'queued';
  position: number;
}

/** An operation answered in one of two ways: done (nothing was ahead of it), or queued behind others. */
export type InTurn<T> = { done: T } | { queued: Queued };

/**
 * Runs deployments: ordered steps written to the store as they happen, undone in
 * reverse when one fails. One deployment runs per app at a time; the others wait
 * their turn in a per-app queue that lives in the store (status `queued`), so it
 * survives a restart. Each kind has a planner that builds its steps when its turn
 * comes. A cancel takes effect at once for a queued deployment and at the next
 * safe point (between steps, or inside a long step that checks) for a running one.
 */
export function createDeployments(
  db: Database,
  events: EventBus,
  log: Logger,
  opts: { stepPauseMs?: number; queueMax?: number } = {},
) {
  const queueMax = opts.queueMax ?? 10;
  const running = new Map<string, Promise<void>>();
  const planners = new Map<string, Planner>();
  const ended = new Map<number, { promise: Promise<void>; resolve: () => void }>();
  const cancels = new Map<number, string | null>();

  function endedOf(id: number) {
    let e = ended.get(id);
    if (!e) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      e = { promise, resolve };
      ended.set(id, e);
    }
    return e;
  }

  async function get(id: number): Promise<Deployment> {
    const d = await db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
    if (!d) throw notFound('deployment', String(id));
    const steps = await db
      .selectFrom('deployment_steps')
      .select(['id', 'position', 'name', 'status', 'message', 'started_at', 'finished_at'])
      .where('deployment_id', '=', id)
      .orderBy('position')
      .execute();
    return { ...d, params: JSON.parse(d.params) as Record<string, unknown>, steps };
  }

  async function setStep(deploymentId: number, position: number, app: string, patch: Partial<StepRow>) {
    await db
      .updateTable('deployment_steps')
      .set(patch)
      .where('deployment_id', '=', deploymentId)
      .where('position', '=', position)
      .execute();
    events.publish('deployment.step', app, { deployment_id: deploymentId, position, ...patch });
  }

  /** Records how a deployment ended; with `onlyIfQueued`, only if it is still waiting (false when it had started). */
  async function finish(
    id: number,
    app: string,
    status: DeploymentStatus,
    error: string | null,
    onlyIfQueued = false,
  ): Promise<boolean> {
    let q = db.updateTable('deployments').set({ status, error, finished_at: nowIso() }).where('id', '=', id);
    if (onlyIfQueued) q = q.where('status', '=', 'queued');
    if (Number((await q.executeTakeFirst()).numUpdatedRows) !== 1) return false;
    await db.deleteFrom('deployment_inputs').where('deployment_id', '=', id).execute();
    events.publish('deployment.finished', app, { deployment_id: id, status, error });
    endedOf(id).resolve();
    ended.delete(id);
    return true;
  }

  async function insertSteps(id: number, steps: StepDef[]) {
    if (steps.length === 0) return;
    await db
      .insertInto('deployment_steps')
      .values(steps.map((s, position) => ({ deployment_id: id, position, name: s.name, status: 'pending' as const })))
      .execute();
  }

  async function execute(
    id: number,
    app: string,
    steps: StepDef[],
    onFailure: 'failed' | 'rolled_back',
  ): Promise<DeploymentStatus> {
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
        for (let j = i + 1; j < steps.length; j++)
          await setStep(id, j, app, { status: 'skipped', message: 'an earlier step failed' });
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
        const what =
          err instanceof CancelledError ? `${reason} during step ${step.name}` : `step ${step.name} failed: ${reason}`;
        await finish(id, app, status, `${what}${suffix}`.slice(0, 8000));
        return status;
      }
    }
    await finish(id, app, 'success', null);
    return 'success';
  }

  /** Runs one recorded deployment now: plans it (the app as it is now), records its steps, executes them. */
  async function runOne(id: number, app: string, kind: string, actor: string, params: Record<string, unknown>) {
    // Cancellable since it was claimed (claim() or enqueue() registered it).
    try {
      const planner = planners.get(kind);
      if (!planner) throw new Error(`no planner for ${kind}`);
      const inputRow = await db
        .selectFrom('deployment_inputs')
        .select('input')
        .where('deployment_id', '=', id)
        .executeTakeFirst();
      let plan: Plan;
      try {
        plan = await planner({
          id,
          app,
          actor,
          params,
          input: inputRow ? (JSON.parse(inputRow.input) as unknown) : null,
        });
      } catch (err) {
        await db.updateTable('deployments').set({ started_at: nowIso() }).where('id', '=', id).execute();
        await finish(id, app, 'failed', `could not start: ${(err as Error).message}`.slice(0, 8000));
        return;
      }
      if (plan.params)
        await db
          .updateTable('deployments')
          .set({ params: JSON.stringify(plan.params) })
          .where('id', '=', id)
          .execute();
      await insertSteps(id, plan.steps);
      const status = await execute(id, app, plan.steps, plan.onFailure ?? 'failed');
      await plan
        .after?.(status)
        .catch((err: unknown) => log.error({ err, deployment: id }, 'after a deployment failed'));
    } catch (err) {
      log.error({ err, deployment: id }, 'deployment runner failed');
      await finish(id, app, 'failed', `internal error: ${(err as Error).message}`);
    } finally {
      cancels.delete(id);
    }
  }

  const nextQueued = (app: string) =>
    db
      .selectFrom('deployments')
      .select(['id', 'kind', 'actor', 'params'])
      .where('app', '=', app)
      .where('status', '=', 'queued')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();

  /** Takes a queued deployment for running; false when a cancel or a supersede ended it first. */
  async function claim(id: number): Promise<boolean> {
    const r = await db
      .updateTable('deployments')
      .set({ status: 'pending' })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return false;
    cancels.set(id, null);
    return true;
  }

  /**
   * Runs the app's queue until it is empty: `first` (already claimed) and then
   * each queued deployment in order. The caller has reserved the app in `running`.
   */
  function runQueue(
    app: string,
    release: () => void,
    first?: { id: number; kind: string; actor: string; params: string },
  ): void {
    const runner = (async () => {
      if (first)
        await runOne(first.id, app, first.kind, first.actor, JSON.parse(first.params) as Record<string, unknown>);
      for (let next = await nextQueued(app); next; next = await nextQueued(app)) {
        if (await claim(next.id))
          await runOne(next.id, app, next.kind, next.actor, JSON.parse(next.params) as Record<string, unknown>);
      }
    })();
    void runner
      .catch((err: unknown) => log.error({ err, app }, 'queue runner failed'))
      .finally(async () => {
        running.delete(app);
        release();
        // Something recorded while the runner was finding its queue empty still gets its turn.
        if (await nextQueued(app).catch(() => undefined)) pump(app);
      });
  }

  /** Reserves the app (synchronously, so nobody runs its queue twice) and runs its queue. */
  function reserve(app: string): (() => void) | null {
    if (running.has(app)) return null;
    let release!: () => void;
    running.set(
      app,
      new Promise<void>((r) => {
        release = r;
      }),
    );
    return release;
  }

  function pump(app: string): void {
    const release = reserve(app);
    if (release) runQueue(app, release);
  }

  /** Deployments of an app that wait, oldest first. */
  const queuedOf = (app: string) =>
    db
      .selectFrom('deployments')
      .select(['id', 'kind'])
      .where('app', '=', app)
      .where('status', '=', 'queued')
      .orderBy('id')
      .execute();

  /** Ends a queued deployment without running it; false when it had started already. */
  const endQueued = (id: number, app: string, status: 'cancelled' | 'superseded', why: string) =>
    finish(id, app, status, why, true);

  /**
   * Records an operation and runs it now when nothing of the app runs or waits
   * (position 0), or leaves it `queued` behind them. 429 when `queue_max`
   * already wait. With `supersede`, the app's waiting operations of the same
   * kind end `superseded` first (two quick pushes deploy once).
   */
  async function enqueue(input: {
    app: string;
    kind: string;
    actor: string;
    params?: Record<string, unknown>;
    input?: unknown;
    supersede?: boolean;
  }): Promise<Queued> {
    if (!planners.has(input.kind)) throw new PocketdError('INTERNAL', `no planner for ${input.kind}`);
    if (input.supersede) {
      for (const q of await queuedOf(input.app)) {
        if (q.kind === input.kind)
          await endQueued(q.id, input.app, 'superseded', `superseded by a newer ${input.kind} from ${input.actor}`);
      }
    }
    const waiting = (await queuedOf(input.app)).length;
    if (waiting >= queueMax) {
      throw new PocketdError(
        'QUEUE_FULL',
        `app ${input.app} has ${waiting} operations waiting, the most queue_max allows; wait for them or cancel one`,
      );
    }
    // Decided and reserved in one synchronous stretch: two requests cannot both start now.
    const release = waiting === 0 ? reserve(input.app) : null;
    const position = release ? 0 : waiting + 1;
    const row = {
      app: input.app,
      kind: input.kind,
      status: release ? ('pending' as const) : ('queued' as const),
      params: JSON.stringify(input.params ?? {}),
      actor: input.actor,
      created_at: nowIso(),
    };
    let id: number;
    try {
      id = await db.transaction().execute(async (trx) => {
        const r = await trx.insertInto('deployments').values(row).returning('id').executeTakeFirstOrThrow();
        if (input.input !== undefined)
          await trx
            .insertInto('deployment_inputs')
            .values({ deployment_id: r.id, input: JSON.stringify(input.input) })
            .execute();
        return r.id;
      });
    } catch (err) {
      if (release) {
        running.delete(input.app);
        release();
      }
      throw err;
    }
    endedOf(id);
    if (release) cancels.set(id, null);
    events.publish('deployment.queued', input.app, { deployment_id: id, kind: input.kind, position });
    if (release) runQueue(input.app, release, { id, kind: input.kind, actor: input.actor, params: row.params });
    return { deployment_id: id, status: 'queued', position };
  }

  /** Records a deployment with its steps and runs it now: for a create, which nothing can be ahead of. */
  async function start(input: {
    app: string;
    kind: string;
    actor: string;
    params?: Record<string, unknown>;
    steps: StepDef[];
    onFailure?: 'failed' | 'rolled_back';
  }): Promise<number> {
    const release = reserve(input.app);
    if (!release) throw new PocketdError('APP_BUSY', `app ${input.app} is busy`);
    try {
      const id = await db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('deployments')
          .values({
            app: input.app,
            kind: input.kind,
            status: 'pending',
            params: JSON.stringify(input.params ?? {}),
            actor: input.actor,
            created_at: nowIso(),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        return row.id;
      });
      await insertSteps(id, input.steps);
      events.publish('deployment.created', input.app, { deployment_id: id, kind: input.kind });
      cancels.set(id, null);
      endedOf(id);
      void execute(id, input.app, input.steps, input.onFailure ?? 'failed')
        .catch((err: unknown) => {
          log.error({ err, deployment: id }, 'deployment runner failed');
          return finish(id, input.app, 'failed', `internal error: ${(err as Error).message}`);
        })
        .finally(() => {
          running.delete(input.app);
          cancels.delete(id);
          release();
          pump(input.app);
        });
      return id;
    } catch (err) {
      running.delete(input.app);
      release();
      throw err;
    }
  }

  /** Runs `q` to its end when it is first in line (the caller waits, bounded); otherwise hands back its place. */
  async function inTurn<T>(q: Queued, done: (d: Deployment) => Promise<T>, timeoutMs = 180_000): Promise<InTurn<T>> {
    if (q.position > 0) return { queued: q };
    return { done: await done(await wait(q.deployment_id, timeoutMs)) };
  }

  /** Waits (bounded) until a deployment ends and returns it. */
  async function wait(id: number, timeoutMs = 300_000): Promise<Deployment> {
    const e = ended.get(id);
    if (e) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        e.promise,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new PocketdError('TIMEOUT', `deployment ${id} did not finish in time`)),
            timeoutMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
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

  /** A queued deployment ends `cancelled` at once; a running one stops at its next safe point. 409 when it already ended. */
  async function cancel(id: number, by: string): Promise<Deployment> {
    const d = await get(id);
    if (d.status === 'queued' && (await endQueued(id, d.app, 'cancelled', `cancelled by ${by} before it started`)))
      return get(id);
    if (!cancels.has(id))
      throw conflict(
        'NOT_CANCELLABLE',
        `deployment ${id} is ${d.status}; only queued or running deployments can be cancelled`,
      );
    cancels.set(id, by);
    events.publish('deployment.cancel_requested', d.app, { deployment_id: id, by });
    return d;
  }

  /** Ends every deployment waiting for an app (a delete makes them pointless). */
  async function cancelQueued(app: string, why: string): Promise<number> {
    let n = 0;
    for (const d of await queuedOf(app)) if (await endQueued(d.id, app, 'cancelled', why)) n++;
    return n;
  }

  /** After recovery: runs every app's queue that a stop of the daemon left waiting. */
  async function resume(): Promise<void> {
    const apps = await db.selectFrom('deployments').select('app').distinct().where('status', '=', 'queued').execute();
    for (const a of apps) pump(a.app);
  }

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

  /** Closes an interrupted deployment with the outcome of its recovery. */
  async function closeInterrupted(d: Deployment, status: DeploymentStatus, error: string | null): Promise<void> {
    await db
      .updateTable('deployment_steps')
      .set({ status: 'failed', message: 'interrupted: pocketd stopped during this step', finished_at: nowIso() })
      .where('deployment_id', '=', d.id)
      .where('status', '=', 'running')
      .execute();
    await db
      .updateTable('deployment_steps')
      .set({ status: 'skipped', message: 'interrupted' })
      .where('deployment_id', '=', d.id)
      .where('status', '=', 'pending')
      .execute();
    await finish(d.id, d.app, status, error);
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
      .sort(([a], [b]) => a.localeCompare(b))
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

  /** Whether a deployment of the app runs now. */
  const busy = (app: string) => running.has(app);
  const idle = async () => {
    await Promise.allSettled([...running.values()]);
  };
  const register = (kind: string, planner: Planner) => {
    planners.set(kind, planner);
  };
  /** Whether an operation of this kind waits for the app already (scheduled work does not queue twice). */
  const isQueued = async (app: string, kind: string) => (await queuedOf(app)).some((q) => q.kind === kind);

  return {
    start,
    enqueue,
    inTurn,
    register,
    get,
    wait,
    list,
    cancel,
    cancelQueued,
    resume,
    interrupted,
    closeInterrupted,
    stats,
    busy,
    isQueued,
    idle,
    countByStatus,
  };
}

export type Deployments = ReturnType<typeof createDeployments>;
