import type { AppDeps } from '../apps/deps.js';
import type { Backups } from '../backups.js';
import { CancelledError, type StepDef } from '../deployments/engine.js';

/**
 * The two steps every change of an app's data opens with: `stop` (undone by starting it again and waiting
 * for its health), then `snapshot`, a pre-deploy backup of what it has (undone by putting it back). The
 * stop is unconditional: an app waiting to restart (auto-restart) is stopped too.
 */
export function stopAndSnapshot(
  deps: Pick<AppDeps, 'privileged' | 'host'> & { backups: Backups },
  app: string,
  port: number,
): StepDef[] {
  let snapshot: number | null = null;
  return [
    {
      name: 'stop',
      run: async () => {
        await deps.privileged.run('stop', [app]);
      },
      undo: async () => {
        await deps.privileged.run('start', [app]);
        await deps.host.waitHealthy(app, port);
      },
    },
    {
      name: 'snapshot',
      run: async (ctx) => {
        const b = await deps.backups.create(app, 'pre-deploy', ctx.deployment);
        snapshot = b.id;
        return `backup ${b.id} (${b.size_bytes ?? 0} bytes)`;
      },
      undo: async () => {
        if (snapshot !== null) await deps.backups.restoreFiles(app, snapshot);
      },
    },
  ];
}

/** The health gate a data change ends with: the app answers healthy on its port, or the step fails; a cancel ends the wait. */
export function waitHealthStep(deps: Pick<AppDeps, 'host'>, app: string, port: number): StepDef {
  return {
    name: 'wait_health',
    run: async (ctx) => {
      const r = await deps.host.waitHealthy(app, port, () => ctx.cancelled());
      if (ctx.cancelled()) throw new CancelledError('request');
      return r;
    },
  };
}
