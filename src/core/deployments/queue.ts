import type { OperationKind } from '../../contract/operations.js';
import { PocketdError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { EventBus } from '../events.js';
import type { Endings } from './endings.js';
import type { KindRegistry, Queued } from './kinds.js';
import type { Claimed, RunOne } from './runner.js';
import type { DeploymentStore } from './store.js';

/**
 * Admission and the per-app queues: one deployment runs per app at a time; the
 * others wait their turn in the store (status `queued`), so a queue survives a
 * restart. `running` holds the apps whose queue runs now, the one busy rule;
 * an app is reserved in it synchronously, so nobody runs its queue twice.
 */
export function createQueues(deps: {
  store: DeploymentStore;
  events: EventBus;
  log: Logger;
  kinds: KindRegistry;
  endings: Endings;
  runOne: RunOne;
  /** Deployments that can be cancelled now, with who asked (null while nobody has). */
  cancels: Map<number, string | null>;
  queueMax: number;
}) {
  const { store, events, log, kinds, runOne, cancels, queueMax } = deps;
  const { finish, endedOf } = deps.endings;
  /** The apps whose queue runs now: the one busy rule. */
  const running = new Map<string, Promise<void>>();

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
  function runQueue(app: string, release: () => void, first?: Claimed): void {
    const runner = (async () => {
      if (first) await runOne(app, first);
      for (let next = await nextQueued(app); next; next = await nextQueued(app)) {
        if (await claim(next.id)) await runOne(app, next);
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

  /** Runs the app's queue unless it runs already. */
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

  return {
    enqueue,
    endQueued,
    pump,
    /** Whether a deployment of the app runs now. */
    busy: (app: string) => running.has(app),
    idle: async () => {
      await Promise.allSettled([...running.values()]);
    },
  };
}
