import type { AppDeps } from '../apps/deps.js';
import type { AppSettings } from '../apps/model.js';
import { assertNoCron } from './cron-hooks.js';
import { allocateWakePort } from './wake-port.js';

/**
 * What a configure makes of `sleep_after`: unchanged when not asked; off frees the port behind the
 * proxy; on keeps the app's wake port or takes a free one.
 */
export async function sleepChange(
  deps: Pick<AppDeps, 'store' | 'config'>,
  old: AppSettings,
  asked: number | null | undefined,
): Promise<Pick<AppSettings, 'sleep_after' | 'wake_port'>> {
  if (asked === undefined) return { sleep_after: old.sleep_after, wake_port: old.wake_port };
  if (asked === null) return { sleep_after: null, wake_port: null };
  return {
    sleep_after: asked,
    wake_port: old.wake_port ?? (await allocateWakePort(deps.store, deps.config.port_range)),
  };
}

/** Refuses (422 on `sleep_after`) to let an app sleep whose deployed bundle's hooks schedule jobs. */
export async function assertMaySleep(deps: Pick<AppDeps, 'bundles'>, app: string, bundle: number | null) {
  if (bundle === null) return;
  await assertNoCron((await deps.bundles.get(app, bundle)).file, 'sleep_after');
}
