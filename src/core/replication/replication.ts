import type { Database } from '../../db/database.js';
import type { AppDeps } from '../apps/deps.js';
import type { Backups } from '../backups.js';
import { createReplicas, type ReplicaView } from './replicas.js';
import { createReplicaFiles } from './replica-files.js';
import { registerRecover } from './recover.js';
import type { Apps } from '../apps/apps.js';
import { registerReplicaRestore } from './replica-restore.js';
import { createReplicaWatch, type ReplicaAlerts } from './replica-watch.js';
import { upgradeReplicaUnits } from './upgrade-replicas.js';

/**
 * Off-host replication, assembled once in the entry point: the replicas, the
 * `replica-restore` deployment kind (registered before interrupted deployments
 * are recovered), and, once the alerts exist, the watch that turns a replica's
 * status into incidents. A deleted app's replica unit and credentials go with it.
 */
export function createReplication(deps: AppDeps & { db: Database; backups: Backups; apps: Apps }) {
  let judge: (app: string, v: ReplicaView) => Promise<void> = async () => undefined;
  const replicas = createReplicas({
    db: deps.db,
    privileged: deps.privileged,
    log: deps.log.child({ mod: 'replicas' }),
    onStatus: (app, v) => judge(app, v),
  });
  const files = createReplicaFiles({ ...deps, replicas, log: deps.log.child({ mod: 'replicas' }) });
  const restores = registerReplicaRestore({ ...deps, replicas });
  const recovery = registerRecover({ ...deps, replicas, apps: () => deps.apps });
  deps.events.subscribe((e) => {
    if (e.type === 'app.deleted' && e.app) void replicas.forget(e.app).catch(() => undefined);
  });
  return {
    replicas,
    /** Installs again the replicas an older pocketd installed (at start, before the watch). */
    upgradeUnits: () =>
      upgradeReplicaUnits({
        replicas,
        privileged: deps.privileged,
        log: deps.log.child({ mod: 'layout' }),
        unitDir: deps.config.unit_dir,
      }),
    restores,
    files,
    recovery,
    /** Starts the status watch; answers its stop. */
    watch(alerts: ReplicaAlerts): () => Promise<void> {
      const w = createReplicaWatch(
        { replicas: () => replicas, alerts, log: deps.log.child({ mod: 'replicas' }), files: (app) => files.push(app) },
        { intervalSeconds: deps.config.replica_check_seconds, lagSeconds: deps.config.replica_lag_alert_seconds },
      );
      judge = w.judge;
      w.start();
      return () => w.stop();
    },
  };
}
