import { portInUse } from '../../host/ports.js';
import type { AppStore } from '../apps/store.js';
import { PocketdError } from '../../shared/errors.js';

/**
 * The port an app listens on behind its proxy while it may sleep: the first of the apps' range
 * that no app holds (as its port or its wake port) and nothing listens on. The helper checks it
 * again against root's range and its own records.
 */
export async function allocateWakePort(store: AppStore, range: { from: number; to: number }): Promise<number> {
  const used = await store.usedPorts();
  for (let p = range.from; p <= range.to; p++) if (!used.has(p) && !(await portInUse(p))) return p;
  throw new PocketdError('NO_FREE_PORT', `no free port left in ${range.from}-${range.to} for the app behind its proxy`);
}
