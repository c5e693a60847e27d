import type { Logger } from '../../shared/log.js';
import type { Endings } from './endings.js';
import type { KindRegistry, Recovery } from './kinds.js';
import type { DeploymentStore } from './store.js';

const INTERRUPTED = 'interrupted by a stop of pocketd';

/**
 * Deployments a stop of the daemon cut short: each is ended by its kind's
 * recoverer (finished or rolled back, with what was done), or failed when its
 * kind has none or the recovery itself fails. Runs before any queue does.
 */
export async function recoverInterrupted(deps: {
  store: DeploymentStore;
  log: Logger;
  kinds: KindRegistry;
  finish: Endings['finish'];
}): Promise<Array<{ id: number } & Recovery>> {
  const { store, log, kinds, finish } = deps;
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
