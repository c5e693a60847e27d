import { singleFlight } from '../../shared/single-flight.js';
import type { Logger } from '../../shared/log.js';
import type { ReplicaView, Replicas } from './replicas.js';

/** What the watcher raises and resolves: the alert code's own raise/resolve (src/core/alerts.ts). */
export interface ReplicaAlerts {
  raise(key: string, kind: 'replica', app: string, title: string, detail: string | null): Promise<unknown>;
  resolve(key: string, title: string, detail: string | null): Promise<void>;
}

/**
 * A replica's status becomes an incident when its target fails or falls more
 * than `lagSeconds` behind, and the incident resolves when it is back. Statuses
 * are refreshed every `intervalSeconds` in one helper call for all apps (each
 * costs a Litestream listing of the target; the helper runs two at a time).
 */
export function createReplicaWatch(
  deps: { replicas: () => Replicas; alerts: ReplicaAlerts; log: Logger; files?: (app: string) => Promise<unknown> },
  opts: { intervalSeconds: number; lagSeconds: number },
) {
  let timer: NodeJS.Timeout | undefined;
  const rounds = singleFlight<void>();

  async function judge(app: string, v: ReplicaView): Promise<void> {
    const key = `replica:${v.app_id}`;
    const s = v.status;
    if (s.error) {
      await deps.alerts.raise(key, 'replica', app, `the replica of ${app} fails`, s.error);
      return;
    }
    if (s.lag_seconds !== null && s.lag_seconds > opts.lagSeconds) {
      await deps.alerts.raise(
        key,
        'replica',
        app,
        `the replica of ${app} is ${Math.round(s.lag_seconds)} s behind`,
        `last sync ${s.last_sync_at ?? 'never'}; the bound is ${opts.lagSeconds} s`,
      );
      return;
    }
    await deps.alerts.resolve(key, `the replica of ${app} is in sync again`, `last sync ${s.last_sync_at ?? 'never'}`);
  }

  async function round(): Promise<void> {
    // One helper call answers every replica's status (replica-statuses), then each app's files go when they changed.
    await deps
      .replicas()
      .refreshAll()
      .catch((err: unknown) => deps.log.warn({ err }, 'replica status check failed'));
    for (const app of await deps.replicas().names())
      await deps.files?.(app).catch((err: unknown) => deps.log.warn({ err, app }, 'replica files push failed'));
  }

  return {
    judge,
    start() {
      timer = setInterval(() => {
        // A round still under way is not joined by another.
        void rounds('round', round);
      }, opts.intervalSeconds * 1000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await rounds.pending('round');
    },
  };
}
