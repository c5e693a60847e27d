import { outcomeSchema, type DeploymentOutcome } from '../../contract/deployments.js';
import type { DeploymentStatus } from '../../db/schema.js';
import { probeHealth } from '../../host/ports.js';
import type { AppDeps } from '../apps/deps.js';

export function decodeOutcome(text: string | null): DeploymentOutcome | null {
  if (text === null) return null;
  const r = outcomeSchema.safeParse(JSON.parse(text));
  return r.success ? r.data : null;
}

/** Reads where the app is now: its release and bundle from the store, its unit, one health probe. */
export async function appOutcome(
  deps: Pick<AppDeps, 'store' | 'host'>,
  app: string,
  status: DeploymentStatus,
): Promise<DeploymentOutcome | null> {
  const row = await deps.store.find(app);
  if (!row) return null;
  const unit = await deps.host.unitDetails(app).catch(() => undefined);
  const running = unit?.active_state === 'active';
  const healthy = running && (await probeHealth(row.port, 3000)).status === 200;
  const where = `PocketBase ${row.version}${row.bundle === null ? ', no bundle' : ` with bundle ${row.bundle}`}`;
  const state = healthy ? 'healthy' : running ? 'running but not healthy' : 'not running';
  const verb =
    status === 'success' ? 'now runs' : status === 'rolled_back' ? 'was rolled back and runs' : 'was left on';
  return { release: row.version, bundle: row.bundle, running, healthy, summary: `${app} ${verb} ${where}: ${state}` };
}

export type { DeploymentOutcome };
