import { z } from 'zod';
import type { AppDeps } from './deps.js';
import type { InTurn, StepDef } from '../deployments/engine.js';

/**
 * The steps that take an app off the host and out of the store: a delete runs
 * them as a deployment, and so does the recovery of a create or a delete that a
 * stop of the daemon cut short (run straight, without undo).
 */
export function teardownSteps(
  deps: Pick<AppDeps, 'store' | 'privileged' | 'host' | 'bundles' | 'events' | 'onArchived'>,
  name: string,
  purge: boolean,
  event: Record<string, unknown> = {},
) {
  const { privileged } = deps;
  let archivedTo = '';
  const steps: StepDef[] = [
    {
      name: 'remove_unit',
      run: async () => {
        await privileged.run('remove-unit', [name]);
        return 'stopped, disabled and removed';
      },
    },
    {
      name: 'remove_site',
      run: async () => {
        await privileged.run('remove-site', [name]);
        return 'removed; caddy reloaded';
      },
    },
    {
      name: 'remove_env',
      run: async () => {
        await privileged.run('remove-env', [name]);
      },
    },
    purge
      ? {
          name: 'purge_data',
          run: async () => {
            await privileged.run('purge-app', [name]);
            return `${deps.host.appDir(name)} removed`;
          },
        }
      : {
          name: 'archive_data',
          run: async () => {
            const said = (await privileged.run('archive-app', [name])).trim();
            archivedTo = said.split('\n')[0] ?? '';
            if (archivedTo) await deps.onArchived?.(name, said);
            return archivedTo ? `archived to ${archivedTo}` : 'no data directory';
          },
        },
    {
      name: 'forget',
      run: async () => {
        await deps.store.forget(name);
        await deps.bundles.removeAll(name);
        deps.events.publish('app.deleted', name, { purged: purge, archived_to: archivedTo || null, ...event });
      },
    },
  ];
  return { steps, archivedTo: () => archivedTo };
}

/** Runs teardown steps straight (recovery: nothing to undo to). */
export async function runStraight(steps: StepDef[], deployment: number): Promise<void> {
  for (const step of steps) await step.run({ deployment, cancelled: () => false });
}

/** Deletes: the app's unit, site, env and data (archived, or purged), then its record. */
export function createDelete(deps: AppDeps, onDeleted: () => Promise<void>) {
  const { store, deployments } = deps;

  deployments.register('delete', {
    params: z.object({ purge: z.boolean().default(false) }),
    plan: async ({ app, params }) => {
      await store.load(app);
      await store.setStatus(app, 'deleting');
      return {
        steps: teardownSteps(deps, app, params.purge).steps,
        after: async (status) => {
          if (status !== 'success') await store.setStatus(app, 'failed');
          // What was asked after the delete has no app left to act on.
          else await deployments.cancelQueued(app, 'cancelled: the app was deleted');
          await onDeleted();
        },
      };
    },
    // Finished as it was asked.
    recover: async (d) => {
      const t = teardownSteps(deps, d.app, d.params.purge === true, { recovered: true });
      await runStraight(t.steps, d.id);
      const archived = t.archivedTo();
      return {
        status: 'success',
        error: `interrupted by a stop of pocketd; the delete was finished on restart${archived ? ` (data archived to ${archived})` : ''}`,
      };
    },
  });

  /** A delete ends what waits for the app first (it would be pointless), then takes its turn. */
  async function remove(
    name: string,
    purge: boolean,
    actor: string,
  ): Promise<InTurn<{ deployment_id: number; status: string; error: string | null }>> {
    await store.admit(name);
    await deployments.cancelQueued(name, `cancelled: a delete of the app by ${actor} came after it`);
    return deployments.inTurn(
      await deployments.enqueue({ app: name, kind: 'delete', actor, params: { purge } }),
      async (d) => ({ deployment_id: d.id, status: d.status, error: d.error }),
      120_000,
    );
  }

  return { remove };
}
