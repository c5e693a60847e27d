import type { z } from 'zod';
import { OPERATION_KINDS, type OperationKind } from '../../contract/operations.js';
import type { Database } from '../../db/database.js';
import type { DeploymentStatus } from '../../db/schema.js';
import { PocketdError, conflict } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { nowIso } from '../clock.js';
import { runSteps, type StepDef, type StepPatch } from './steps.js';
import { deploymentStore, type Deployment } from './store.js';
import type { EventBus } from '../events.js';
import type { DeploymentOutcome } from './outcome.js';

export { CancelledError, type StepContext, type StepDef } from './steps.js';
export type { Deployment } from './store.js';

/** What a queued operation turns into when its turn comes: its steps, built from the app as it is then. */
export interface Plan {
  steps: StepDef[];
  /** Replaces the recorded params once it starts (what recovery after a crash reads back). */
  params?: Record<string, unknown>;
  /** The status when a step fails and every undo succeeds: changes of a working app roll back, creates fail. */
  onFailure?: 'failed' | 'rolled_back';
  /** Where the app ended, read once the steps are done (recorded with the deployment). */
  outcome?: (status: DeploymentStatus) => Promise<DeploymentOutcome | null>;
  /** Runs after the deployment ended, whatever its status. */
  after?: (status: DeploymentStatus) => Promise<void>;
}

/** How a deployment that a stop of the daemon cut short was ended on restart. */
export interface Recovery {
  status: 'success' | 'rolled_back' | 'failed';
  error: string;
}

/**
 * A kind of operation: the params its request records (checked again when its
 * turn comes), how it plans its steps then, and how it is ended when a stop of
 * the daemon cut it short (without `recover`, it ends failed).
 */
export interface Kind<P> {
  params: z.ZodType<P>;
  plan: (d: { id: number; app: string; actor: string; params: P; input: unknown }) => Promise<Plan>;
  recover?: (d: Deployment) => Promise<Recovery>;
}

/** A deployment recorded to run when the ones before it for the same app have ended. */
export interface Queued {
  deployment_id: number;
  status: 'queued';
  position: number;
}

/** An operation answered in one of two ways: done (nothing was ahead of it), or queued behind others. */
export type InTurn<T> = { done: T } | { queued: Queued };

const INTERRUPTED = 'interrupted by a stop of pocketd';

/**
 * Runs deployments: ordered steps written to the store as they happen, undone in
 * reverse when one fails. One deployment runs per app at a time; the others wait
 * their turn in a per-app queue that lives in the store (status `queued`), so it
 * survives a restart. Each kind has a planner that builds its steps when its turn
 * comes, and a recoverer for when a stop cut it short. A cancel takes effect at
 * once for a queued deployment and at the next safe point (between steps, or
 * inside a long step that checks) for a running one.
 *
 * Over 300 lines on purpose: reserve, claim, run, cancel and recover all turn
 * on three in-memory maps (the apps whose queue runs, who asked to cancel,
 * who waits for an end) and stay correct only read together; the steps and
 * the store are apart (deployment-steps.ts, deployment-store.ts).
 */
export function createDeployments(
  db: Database,
  events: EventBus,
  log: Logger,
  opts: { stepPauseMs?: number; queueMax?: number } = {},
) {
  const store = deploymentStore(db);
  const queueMax = opts.queueMax ?? 10;
  /** The apps whose queue runs now: the one busy rule. */
  const running = new Map<string, Promise<void>>();
  const kinds = new Map<OperationKind, Kind<unknown>>();
  const ended = new Map<number, { promise: Promise<void>; resolve: () => void }>();
  /** Deployments that can be cancelled now, with who asked (null while nobody has). */
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

  /** Records how a deployment ended; with `onlyIfQueued`, only if it is still waiting (false when it had started). */
  async function finish(id: number, app: string, status: DeploymentStatus, error: string | null, onlyIfQueued = false) {
    if (!(await store.end(id, status, error, onlyIfQueued))) return false;
    events.publish('deployment.finished', app, { deployment_id: id, status, error });
    endedOf(id).resolve();
    ended.delete(id);
    return true;
  }

  /** Runs one claimed deployment now: plans it (the app as it is now), records its steps, executes them. */
  async function runOne(id: number, app: string, kind: OperationKind, actor: string, rawParams: string) {
    try {
      const def = kinds.get(kind);
      let plan: Plan;
      try {
        if (!def) throw new Error(`no planner for ${kind}`);
        const params = def.params.parse(JSON.parse(rawParams));
        plan = await def.plan({ id, app, actor, params, input: await store.input(id) });
      } catch (err) {
        await store.set(id, { started_at: nowIso() });
        await finish(id, app, 'failed', `could not start: ${(err as Error).message}`.slice(0, 8000));
        return;
      }
      if (plan.params) await store.set(id, { params: JSON.stringify(plan.params) });
      await store.insertSteps(
        id,
        plan.steps.map((s) => s.name),
      );
      await store.set(id, { status: 'running', started_at: nowIso() });
      events.publish('deployment.started', app, { deployment_id: id });
      const outcome = await runSteps(id, plan.steps, {
        record: async (position: number, patch: StepPatch) => {
          await store.setStep(id, position, patch);
          events.publish('deployment.step', app, { deployment_id: id, position, ...patch });
        },
        cancelledBy: () => cancels.get(id) ?? null,
        onFailure: plan.onFailure ?? 'failed',
        pauseMs: opts.stepPauseMs,
        log: log.child({ app }),
      });
      const where = await plan.outcome?.(outcome.status).catch((err: unknown) => {
        log.warn({ err, deployment: id }, 'where the app ended could not be read');
        return null;
      });
      if (where) await store.set(id, { outcome: JSON.stringify(where) });
      await finish(id, app, outcome.status, outcome.error);
      await plan
        .after?.(outcome.status)
        .catch((err: unknown) => log.error({ err, deployment: id }, 'after a deployment failed'));
    } catch (err) {
      log.error({ err, deployment: id }, 'deployment runner failed');
      await finish(id, app, 'failed', `internal error: ${(err as Error).message}`);
    } finally {
      cancels.delete(id);
    }
  }

  const nextQueued = async (app: string) => (await store.queuedOf(app))[0];

  /** Takes a queued deployment for running; false when a cancel or a supersede ended it first. */
  async function claim(id: number): Promise<boolean> {
    if (!(await store.claim(id))) return false;
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
    first?: { id: number; kind: OperationKind; actor: string; params: string },
  ): void {
    const runner = (async () => {
      if (first) await runOne(first.id, app, first.kind, first.actor, first.params);
      for (let next = await nextQueued(app); next; next = await nextQueued(app)) {
        if (await claim(next.id)) await runOne(next.id, app, next.kind, next.actor, next.params);
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

  /** Reserves the app (synchronously, so nobody runs its queue twice); null when its queue runs already. */
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

  /** Ends a queued deployment without running it; false when it had started already. */
  const endQueued = (id: number, app: string, status: 'cancelled' | 'superseded', why: string) =>
    finish(id, app, status, why, true);

  /**
   * Records an operation and runs it now when nothing of the app runs or waits
   * (position 0), or leaves it `queued` behind them. QUEUE_FULL when
   * `queue_max` already wait. With `supersede`, the app's waiting operations of
   * the same kind end `superseded` first (two quick pushes deploy once). The
   * params are checked against the kind's schema here, before anything is recorded.
   */
  async function enqueue(req: {
    app: string;
    kind: OperationKind;
    actor: string;
    params?: Record<string, unknown>;
    input?: unknown;
    supersede?: boolean;
  }): Promise<Queued> {
    const def = kinds.get(req.kind);
    if (!def) throw new PocketdError('INTERNAL', `no planner for ${req.kind}`);
    const params = req.params ?? {};
    def.params.parse(params);
    if (req.supersede) {
      for (const q of await store.queuedOf(req.app)) {
        if (q.kind === req.kind)
          await endQueued(q.id, req.app, 'superseded', `superseded by a newer ${req.kind} from ${req.actor}`);
      }
    }
    const waiting = (await store.queuedOf(req.app)).length;
    if (waiting >= queueMax) {
      throw new PocketdError(
        'QUEUE_FULL',
        `app ${req.app} has ${waiting} operations waiting, the most queue_max allows; wait for them or cancel one`,
      );
    }
    // Decided and reserved in one synchronous stretch: two requests cannot both start now.
    const release = waiting === 0 ? reserve(req.app) : null;
    const position = release ? 0 : waiting + 1;
    const status = release ? ('pending' as const) : ('queued' as const);
    let id: number;
    try {
      id = await store.insert({ app: req.app, kind: req.kind, actor: req.actor, status, params }, req.input);
    } catch (err) {
      if (release) {
        running.delete(req.app);
        release();
      }
      throw err;
    }
    endedOf(id);
    if (release) cancels.set(id, null);
    events.publish('deployment.queued', req.app, { deployment_id: id, kind: req.kind, position });
    if (release) runQueue(req.app, release, { id, kind: req.kind, actor: req.actor, params: JSON.stringify(params) });
    return { deployment_id: id, status: 'queued', position };
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
    return store.get(id);
  }

  /** A queued deployment ends `cancelled` at once; a running one stops at its next safe point. 409 when it already ended. */
  async function cancel(id: number, by: string): Promise<Deployment> {
    const d = await store.get(id);
    if (d.status === 'queued' && (await endQueued(id, d.app, 'cancelled', `cancelled by ${by} before it started`)))
      return store.get(id);
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
    for (const d of await store.queuedOf(app)) if (await endQueued(d.id, app, 'cancelled', why)) n++;
    return n;
  }

  /**
   * Deployments a stop of the daemon cut short: each is ended by its kind's
   * recoverer (finished or rolled back, with what was done), or failed when its
   * kind has none or the recovery itself fails. Runs before any queue does.
   */
  async function recoverInterrupted(): Promise<Array<{ id: number } & Recovery>> {
    const out: Array<{ id: number } & Recovery> = [];
    for (const d of await store.interrupted()) {
      const recover = kinds.get(d.kind)?.recover;
      let r: Recovery;
      try {
        r = recover ? await recover(d) : { status: 'failed', error: INTERRUPTED };
      } catch (err) {
        r = { status: 'failed', error: `${INTERRUPTED}; recovery failed: ${(err as Error).message}` };
      }
      log.warn({ deployment: d.id, app: d.app, kind: d.kind, status: r.status }, r.error);
      await store.interruptSteps(d.id);
      await finish(d.id, d.app, r.status, r.status === 'success' ? null : r.error);
      out.push({ id: d.id, ...r });
    }
    return out;
  }

  /** After recovery: runs every app's queue that a stop of the daemon left waiting. */
  async function resume(): Promise<void> {
    for (const app of await store.queuedApps()) pump(app);
  }

  return {
    enqueue,
    inTurn,
    /** Adds a kind of operation; its planner, params and recoverer. */
    /** Throws, naming them, when a kind of the one list has no planner (called once the daemon is wired). */
    assertEveryKind: (): void => {
      const missing = OPERATION_KINDS.filter((k) => !kinds.has(k));
      if (missing.length) throw new Error(`no planner for operation kind(s): ${missing.join(', ')}`);
    },
    register: <P>(kind: OperationKind, def: Kind<P>) => {
      if (kinds.has(kind)) throw new Error(`a second planner for ${kind}`);
      kinds.set(kind, def as Kind<unknown>);
    },
    get: store.get,
    wait,
    list: store.list,
    ofPresentApp: store.ofPresentApp,
    cancel,
    cancelQueued,
    recoverInterrupted,
    resume,
    stats: store.stats,
    countByStatus: store.countByStatus,
    /** Whether a deployment of the app runs now. */
    busy: (app: string) => running.has(app),
    /** Whether an operation of this kind waits for the app already (scheduled work does not queue twice). */
    isQueued: async (app: string, kind: string) => (await store.queuedOf(app)).some((q) => q.kind === kind),
    idle: async () => {
      await Promise.allSettled([...running.values()]);
    },
  };
}

export type Deployments = ReturnType<typeof createDeployments>;
