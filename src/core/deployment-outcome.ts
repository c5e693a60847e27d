import { z } from 'zod';
import type { DeploymentStatus } from '../db/schema.js';
import { probeHealth } from '../host/ports.js';
import type { AppDeps } from './app-deps.js';

/** Where a finished change left the app: what CI prints, and what an operator reads before acting. */
export const outcomeSchema = z.object({
  release: z.string().describe('The PocketBase version the app runs now'),
  bundle: z.number().int().nullable().describe('The bundle it serves now (null: none)'),
  running: z.boolean(),
  healthy: z.boolean().describe('Whether /api/health answered 200 when the deployment ended'),
  summary: z.string().describe('The same in one sentence'),
});
export type DeploymentOutcome = z.infer<typeof outcomeSchema>;

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
