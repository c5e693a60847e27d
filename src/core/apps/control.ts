import { z } from 'zod';
import { PocketdError } from '../../shared/errors.js';
import type { AppDeps } from './deps.js';
import type { Deployment, InTurn } from '../deployments/engine.js';

const ACTIONS = ['start', 'stop', 'restart'] as const;
type Action = (typeof ACTIONS)[number];

/**
 * Start, stop and restart: the helper asks systemd, the step waits until the
 * unit says it happened (a restart: a new main PID), and the app's desired
 * state follows so health checks know whether it should run.
 */
export function createControl(deps: AppDeps) {
  const { store, host, privileged, deployments } = deps;

  const reached = (action: Action, before: number | null | undefined) =>
    action === 'stop'
      ? (u: { active_state: string }) => u.active_state === 'inactive' || u.active_state === 'failed'
      : (u: { active_state: string; main_pid: number | null }) =>
          u.active_state === 'active' && u.main_pid !== null && (action === 'start' || u.main_pid !== before);

  for (const action of ACTIONS) {
    deployments.register(action, {
      params: z.object({}),
      plan: async ({ app }) => {
        await store.readyAtTurn(app);
        const before = await host.unitDetails(app);
        return {
          steps: [
            {
              name: action,
              run: async () => {
                await privileged.run(action, [app]);
                const d = await host.waitForUnit(app, reached(action, before?.main_pid));
                return `${d.active_state}/${d.sub_state}${d.main_pid ? `, pid ${d.main_pid}` : ''}`;
              },
            },
            {
              name: 'save',
              run: async () => {
                await store.setDesired(app, action === 'stop' ? 'stopped' : 'running');
                deps.events.publish(
                  `app.${action === 'stop' ? 'stopped' : action === 'start' ? 'started' : 'restarted'}`,
                  app,
                );
              },
            },
          ],
        };
      },
    });
  }

  async function control(name: string, action: Action, actor: string): Promise<InTurn<Deployment>> {
    await store.admit(name);
    return deployments.inTurn(
      await deployments.enqueue({ app: name, kind: action, actor }),
      async (d) => {
        if (d.status !== 'success')
          throw new PocketdError('OPERATION_FAILED', `${action} of ${name} ${d.status}: ${d.error ?? ''}`);
        return d;
      },
      90_000,
    );
  }

  /** A restart pocketd asks for itself (health checks): queued once, behind whatever is ahead. */
  async function autoRestart(name: string, actor: string): Promise<boolean> {
    if (await deployments.isQueued(name, 'restart')) return false;
    await deployments.enqueue({ app: name, kind: 'restart', actor });
    return true;
  }

  return { control, autoRestart };
}
