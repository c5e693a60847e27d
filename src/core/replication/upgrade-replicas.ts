import path from 'node:path';
import { readIfExists } from '../../shared/files.js';
import type { Logger } from '../../shared/log.js';
import { replicaUnitName } from '../../shared/naming.js';
import { REPLICA_LAYOUT } from '../../shared/replica-templates.js';
import type { Privileged } from '../../host/privileged.js';
import type { Replicas } from './replicas.js';

/** The layout a replica unit says it has; a unit without the line is layout 1. */
export const replicaLayoutOf = (unitText: string): number =>
  Number(/^# pocketd-replica-layout: (\d+)$/m.exec(unitText)?.[1] ?? 1);

/**
 * Replicas an older pocketd installed are installed again when the daemon starts, from the store (the same
 * replica-install a `replica set` runs): their unit, credentials and pb_data's mode follow the current
 * layout. A replica whose unit is of the current layout is never touched here; one that fails is logged and
 * kept as it was, and the daemon starts anyway. Answers the apps whose replica was installed again.
 */
export async function upgradeReplicaUnits(deps: {
  replicas: Pick<Replicas, 'names' | 'specOf'>;
  privileged: Pick<Privileged, 'run'>;
  log: Logger;
  unitDir: string;
}): Promise<string[]> {
  const upgraded: string[] = [];
  for (const app of await deps.replicas.names()) {
    const text = await readIfExists(path.join(deps.unitDir, replicaUnitName(app)));
    if (text === null) continue;
    const layout = replicaLayoutOf(text);
    if (layout >= REPLICA_LAYOUT) continue;
    try {
      const spec = await deps.replicas.specOf(app);
      await deps.privileged.run('replica-install', [app], { spec, timeoutMs: 120_000 });
      deps.log.warn({ app, from: layout, to: REPLICA_LAYOUT }, 'replica installed again in the current layout');
      upgraded.push(app);
    } catch (err) {
      deps.log.error({ app, err }, 'the replica could not be installed again in the current layout; it runs as before');
    }
  }
  return upgraded;
}
