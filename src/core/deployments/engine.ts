import type { Database } from '../../db/database.js';
import { conflict } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { EventBus } from '../events.js';
import { endings } from './endings.js';
import { kindRegistry, type InTurn, type Queued } from './kinds.js';
import { createQueues } from './queue.js';
import { recoverInterrupted } from './recovery.js';
import { createRunner } from './runner.js';
import { deploymentStore, type Deployment } from './store.js';

export { CancelledError, type StepContext, type StepDef } from './steps.js';
export type { Deployment } from './store.js';
export type { Plan, Recovery, Kind, Queued, InTurn } from './kinds.js';

/**
 * Runs deployments: ordered steps written to the store as they happen, undone in
 * reverse when one fails. One deployment runs per app at a time; the others wait
 * their turn in a per-app queue that lives in the store (status `queued`), so it
 * survives a restart. Each kind has a planner that builds its steps when its turn
 * comes, and a recoverer for when a stop cut it short. A cancel takes effect at
 * once for a queued deployment and at the next safe point (between steps, or
 * inside a long step that checks) for a running one.
 *
 * The parts: the kind registry (kinds.ts), admission and the per-app queues
 * (queue.ts), the runner of one deployment (runner.ts) over its steps (steps.ts),
 * how a deployment ends and who waits for it (endings.ts), recovery after a stop
 * (recovery.ts), the store (store.ts). This file joins them and cancels.
 */
export function createDeployments(
  db: Database,
  events: EventBus,
  log: Logger,
  opts: { stepPauseMs?: number; queueMax?: number } = {},
) {
  const store = deploymentStore(db);
  const kinds = kindRegistry();
  const ends = endings(store, events);
  /** Deployments that can be cancelled now, with who asked (null while nobody has). */
  const cancels = new Map<number, string | null>();
  const runOne = createRunner({
    store,
    events,
    log,
    kinds,
    finish: ends.finish,
    cancels,
    stepPauseMs: opts.stepPauseMs,
  });
  const queues = createQueues({
    store,
    events,
    log,
    kinds,
    endings: ends,
    runOne,
    cancels,
    queueMax: opts.queueMax ?? 10,
  });
  const { endQueued } = queues;

  /** Runs `q` to its end when it is first in line (the caller waits, bounded); otherwise hands back its place. */
  async function inTurn<T>(q: Queued, done: (d: Deployment) => Promise<T>, timeoutMs = 180_000): Promise<InTurn<T>> {
    if (q.position > 0) return { queued: q };
    return { done: await done(await ends.wait(q.deployment_id, timeoutMs)) };
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

  return {
    enqueue: queues.enqueue,
    inTurn,
    assertEveryKind: kinds.assertEveryKind,
    register: kinds.register,
    get: store.get,
    wait: ends.wait,
    list: store.list,
    ofPresentApp: store.ofPresentApp,
    cancel,
    cancelQueued,
    /** Ends the deployments a stop of the daemon cut short (recovery.ts); runs before any queue does. */
    recoverInterrupted: () => recoverInterrupted({ store, log, kinds, finish: ends.finish }),
    /** After recovery: runs every app's queue that a stop of the daemon left waiting. */
    resume: async (): Promise<void> => {
      for (const app of await store.queuedApps()) queues.pump(app);
    },
    stats: store.stats,
    countByStatus: store.countByStatus,
    busy: queues.busy,
    /** Whether an operation of this kind waits for the app already (scheduled work does not queue twice). */
    isQueued: async (app: string, kind: string) => (await store.queuedOf(app)).some((q) => q.kind === kind),
    idle: queues.idle,
  };
}

export type Deployments = ReturnType<typeof createDeployments>;
