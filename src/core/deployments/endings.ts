import type { DeploymentStatus } from '../../db/schema.js';
import { PocketdError } from '../../shared/errors.js';
import type { EventBus } from '../events.js';
import type { Deployment, DeploymentStore } from './store.js';

/**
 * How deployments end: the one place that records an end (and says so), and
 * the promises that callers waiting for an end hold until it comes.
 */
export function endings(store: DeploymentStore, events: EventBus) {
  const ended = new Map<number, { promise: Promise<void>; resolve: () => void }>();

  /** The end of a deployment as a promise; made when the deployment is recorded. */
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

  return { endedOf, finish, wait };
}
export type Endings = ReturnType<typeof endings>;
