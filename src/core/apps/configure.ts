import { z } from 'zod';
import { invalid } from '../../shared/errors.js';
import { readIfExists } from '../../shared/files.js';
import type { AppDeps } from './deps.js';
import { patchAppSchema, renderEnvFile, type AppSettings, type PatchAppInput } from './model.js';
import type { Deployment, InTurn, StepDef } from '../deployments/engine.js';
import { assertMaySleep, sleepChange } from '../sleep/sleep-configure.js';

export type Applied = { deployment_id: number; status: string };
const applied = async (d: Deployment): Promise<Applied> => ({ deployment_id: d.id, status: d.status });

/**
 * Configure and repair: new settings (or, for a repair, the stored ones) are
 * rendered, only what changed is reinstalled, and the app restarts only when
 * its unit or env changed. A failure puts the old files back.
 */
export function createConfigure(deps: AppDeps, onConfigured: () => Promise<void>) {
  const { store, host, privileged, deployments } = deps;

  /** Applies new settings from the app as it is when its turn comes. */
  async function plan(name: string, input: PatchAppInput, repair: boolean): Promise<StepDef[]> {
    const { row, settings: old } = await store.readyAtTurn(name);
    if (repair) await host.refreshRoutes();
    const next: AppSettings = {
      ...old,
      domains: input.domains ?? old.domains,
      env: input.env ?? old.env,
      memory_max: input.memory_max === undefined ? old.memory_max : input.memory_max,
      cpu_quota: input.cpu_quota === undefined ? old.cpu_quota : input.cpu_quota,
      ...(await sleepChange(deps, old, input.sleep_after)),
    };
    await assertDomainsFree(name, input.domains);
    const newUnit = await host.renderUnit(next);
    const newSite = await host.renderSite(next);
    const unitChanged = (await host.installedUnit(name)) !== newUnit;
    // The env file is not readable by the daemon: a repair always writes it again.
    const envChanged = renderEnvFile(old.env) !== renderEnvFile(next.env) || repair;
    // A repair also puts the site back when only Caddy's live routes were changed behind pocketd (a reload restores them).
    const siteChanged =
      (await readIfExists(host.siteFile(name))) !== newSite ||
      (repair && newSite !== null && !(await host.routesMatch(next)).match);
    // An app asleep runs as far as a change is concerned: its new unit is started (and it sleeps again later).
    const running =
      (await host.unitDetails(name))?.active_state === 'active' ||
      (old.sleep_after !== null && row.desired_state === 'running');
    const restart = running && (unitChanged || envChanged);
    const startNeeded = repair && !running && row.desired_state === 'running';
    return [
      {
        name: 'validate',
        run: async () =>
          [unitChanged && 'unit', siteChanged && 'site', envChanged && 'env'].filter(Boolean).join(', ') ||
          'nothing changed',
      },
      {
        name: 'install_env',
        skip: () => !envChanged,
        run: () => host.installEnv(name, next.env),
        undo: () => host.installEnv(name, old.env),
      },
      {
        name: 'install_unit',
        skip: () => !unitChanged,
        run: () => host.installUnit(next),
        undo: () => host.installUnit(old),
      },
      {
        name: 'install_site',
        skip: () => !siteChanged,
        run: () => host.installSite(next),
        undo: () => host.installSite(old),
      },
      {
        name: 'restart',
        skip: () => !restart,
        run: async () => {
          await privileged.run('restart', [name]);
        },
        undo: async () => {
          await privileged.run('restart', [name]);
        },
      },
      {
        name: 'start',
        skip: () => !startNeeded,
        run: async () => {
          await privileged.run('start', [name]);
        },
        undo: async () => {
          await privileged.run('stop', [name]);
        },
      },
      { name: 'wait_health', skip: () => !startNeeded && !restart, run: () => host.waitHealthy(name, next.port) },
      {
        name: 'save',
        run: async () => {
          await store.saveSettings(name, {
            settings: next,
            domainsChanged: input.domains !== undefined,
            backup_schedule: input.backup_schedule,
            backup_keep: input.backup_keep,
            health_path: input.health_path,
          });
          deps.events.publish('app.configured', name);
        },
      },
    ];
  }

  async function assertDomainsFree(name: string, domains: string[] | undefined) {
    const taken = await store.domainOwners(domains ?? [], name);
    if (taken.length)
      throw invalid(
        taken.map((t) => ({
          field: `domains.${domains!.indexOf(t.domain)}`,
          code: 'DOMAIN_TAKEN',
          message: `${t.domain} is used by app ${t.app}`,
        })),
      );
  }

  /** Rolled back to the settings in the store: the files are rendered from them again and the app restarted. */
  async function recover(d: Deployment) {
    if (!(await store.find(d.app))) return { status: 'failed' as const, error: 'interrupted by a stop of pocketd' };
    const { row, settings } = await store.load(d.app);
    await host.installEnv(d.app, settings.env);
    await host.installUnit(settings);
    await host.installSite(settings);
    if (row.desired_state === 'running') {
      await privileged.run('restart', [d.app]);
      await host.waitHealthy(d.app, settings.port);
    }
    return {
      status: 'rolled_back' as const,
      error: 'interrupted by a stop of pocketd; the settings in the store were put back on restart',
    };
  }

  const after = async (status: string) => {
    if (status === 'success') await onConfigured();
  };
  deployments.register('configure', {
    params: z.object({ fields: z.array(z.string()) }),
    plan: async ({ app, input }) => ({ steps: await plan(app, patchAppSchema.parse(input), false), after }),
    recover,
  });
  deployments.register('repair', {
    params: z.object({}),
    plan: async ({ app }) => ({ steps: await plan(app, {}, true), after }),
    recover,
  });

  /** The input (env values included) is kept apart from the public params until the configure ends. */
  async function configure(name: string, input: PatchAppInput, actor: string): Promise<InTurn<Applied>> {
    const { row } = await store.admit(name);
    await assertDomainsFree(name, input.domains);
    if (input.sleep_after != null) await assertMaySleep(deps, name, row.bundle);
    return deployments.inTurn(
      await deployments.enqueue({ app: name, kind: 'configure', actor, params: { fields: Object.keys(input) }, input }),
      applied,
    );
  }

  /** Puts pocketd's unit, site and env back (drift), and starts the app if it should run. */
  async function repair(name: string, actor: string): Promise<InTurn<Applied>> {
    await store.admit(name);
    return deployments.inTurn(await deployments.enqueue({ app: name, kind: 'repair', actor }), applied);
  }

  return { configure, repair };
}
