import { z } from 'zod';
import { PocketdError, fieldError } from '../../shared/errors.js';
import { timestampSchema } from '../../shared/replica-rules.js';
import type { AppDeps } from '../apps/deps.js';
import type { Backups } from '../backups.js';
import type { Deployment, Queued, Recovery, StepDef } from '../deployments/engine.js';
import type { Replicas } from './replicas.js';
import { stopAndSnapshot, waitHealthStep } from '../changes/stop-snapshot.js';

export const replicaRestoreParams = z.object({
  /** The app whose replica is restored: the app itself, or another one for a clone. */
  source: z.string(),
  /** UTC instant, or null for the latest the target holds. */
  timestamp: z.string().nullable(),
});
type Params = z.infer<typeof replicaRestoreParams>;

/**
 * `replica-restore`, a deployment in the app's queue like every change of its
 * data: stop the app, snapshot what it has (a pre-deploy backup the undo puts
 * back), stop its replication, put the replica's databases in place (the latest,
 * or as they were at a time), start, pass the health gate, replicate again (a
 * new generation). A failed gate undoes it all.
 */
export function registerReplicaRestore(deps: AppDeps & { backups: Backups; replicas: Replicas }) {
  const { privileged, host, store, deployments } = deps;

  function steps(app: string, port: number, p: Params): StepDef[] {
    return [
      {
        name: 'validate',
        run: async () =>
          `data of ${p.source === app ? app : `app ${p.source}`} from its replica, ${p.timestamp ?? 'the latest'}`,
      },
      ...stopAndSnapshot(deps, app, port),
      {
        name: 'stop_replica',
        run: async () => {
          await privileged.run('replica-stop', [app]);
        },
        undo: async () => {
          await privileged.run('replica-start', [app]);
        },
      },
      {
        name: 'restore_replica',
        run: async () => {
          const spec = await deps.replicas.specOf(p.source);
          await privileged.run('replica-restore', [app], {
            spec: { spec, source: p.source, timestamp: p.timestamp },
            timeoutMs: 60 * 60_000,
          });
          return `restored ${p.timestamp ?? 'the latest'}`;
        },
      },
      {
        name: 'start',
        run: async () => {
          await privileged.run('start', [app]);
        },
        undo: async () => {
          await privileged.run('stop', [app]);
        },
      },
      waitHealthStep(deps, app, port),
      {
        name: 'start_replica',
        run: async () => {
          await privileged.run('replica-start', [app]);
        },
      },
    ];
  }

  deployments.register('replica-restore', {
    params: replicaRestoreParams,
    plan: async ({ app, params }) => {
      const { settings } = await store.readyAtTurn(app);
      return { params, steps: steps(app, settings.port, params), onFailure: 'rolled_back' };
    },
    recover: (d) => recover(d),
  });

  /** Cut short by a stop of pocketd: the snapshot goes back when the data may have changed, and the app starts. */
  async function recover(d: Deployment): Promise<Recovery> {
    const done = (n: string) => d.steps.some((s) => s.name === n && ['success', 'running'].includes(s.status));
    if (!done('stop')) return { status: 'failed', error: 'interrupted by a stop of pocketd; nothing was changed' };
    const { settings } = await store.load(d.app);
    const snap = await deps.backups.snapshotOf(d.id);
    if (snap !== null && done('restore_replica')) await deps.backups.restoreFiles(d.app, snap);
    await privileged.run('start', [d.app]);
    await host.waitHealthy(d.app, settings.port);
    await privileged.run('replica-start', [d.app]).catch(() => undefined);
    return { status: 'rolled_back', error: 'interrupted by a stop of pocketd; the data from before was put back' };
  }

  /** Queues a restore of `app` from the replica of `source` (itself by default). */
  async function restore(app: string, actor: string, source: string, timestamp: string | null): Promise<Queued> {
    await store.admit(app, 'working');
    if (timestamp !== null && !timestampSchema.safeParse(timestamp).success)
      throw fieldError('timestamp', 'INVALID_TIMESTAMP', 'must be an instant in UTC like 2026-11-30T01:02:03Z');
    if (timestamp !== null && Date.parse(timestamp) > Date.now())
      throw fieldError('timestamp', 'IN_THE_FUTURE', 'must not be in the future');
    if (!(await deps.replicas.get(source)))
      throw new PocketdError('NOT_FOUND', `app '${source}' has no replica to restore from`);
    return deployments.enqueue({ app, kind: 'replica-restore', actor, params: { source, timestamp } });
  }

  return { restore };
}

export type ReplicaRestores = ReturnType<typeof registerReplicaRestore>;
