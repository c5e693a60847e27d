import type { AppDeps } from './deps.js';
import { createConfigure } from './configure.js';
import { createControl } from './control.js';
import { createDelete } from './delete.js';
import { createEnv } from './env.js';

/**
 * The operations on an existing app that change it: start, stop, restart,
 * configure, repair, env, superuser, delete. Each is a deployment in the app's
 * queue: asked while another runs, it waits its turn (202 with its place)
 * instead of being refused; asked when nothing is ahead, the caller waits for
 * it (bounded) and gets its outcome. `onConfigured` runs after a configure
 * saved new settings or a delete ended (backup schedules follow them).
 */
export function createAppOps(deps: AppDeps, onConfigured: () => Promise<void>) {
  return {
    ...createControl(deps),
    ...createConfigure(deps, onConfigured),
    ...createEnv(deps),
    ...createDelete(deps, onConfigured),
  };
}

export type AppOps = ReturnType<typeof createAppOps>;
