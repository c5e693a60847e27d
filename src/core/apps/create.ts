import { z } from 'zod';
import { invalid } from '../../shared/errors.js';
import { superuserSchema } from '../../shared/rules.js';
import type { AppDeps } from './deps.js';
import { unitName } from '../../shared/naming.js';
import type { AppSettings, CreateAppInput } from './model.js';
import { runStraight, teardownSteps } from './delete.js';
import type { ValidationReport } from './validate.js';
import type { StepDef } from '../deployments/engine.js';

/** What a create keeps apart from its public params until it ends: the superuser's password. */
const createInput = z.object({ superuser: superuserSchema.optional() }).nullable();

/** Serialises a section of async code. */
function mutex() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** The first steps of a create and of a restore: the app's record, then its release on the host. */
function headSteps(deps: AppDeps, s: AppSettings): StepDef[] {
  return [
    {
      name: 'validate',
      run: async () => `port ${s.port}, PocketBase ${s.version}`,
      undo: () => deps.store.forget(s.name),
    },
    {
      name: 'fetch_release',
      run: async () => {
        await deps.releases.ensure(s.version);
        return `PocketBase ${s.version} ready`;
      },
    },
  ];
}

/** The last steps: the app answers its health, gets its superuser when one was asked for, and is ready. */
function tailSteps(deps: AppDeps, s: AppSettings, superuser: z.infer<typeof superuserSchema> | undefined): StepDef[] {
  return [
    { name: 'wait_health', run: () => deps.host.waitHealthy(s.name, s.port) },
    {
      name: 'create_superuser',
      skip: () => !superuser,
      run: async () => {
        if (!superuser) return 'no superuser asked for';
        await deps.privileged.run('superuser', [s.name], { spec: superuser });
        return `superuser ${superuser.email}`;
      },
    },
    {
      name: 'finish',
      run: async () => {
        await deps.store.setStatus(s.name, 'ready');
        deps.events.publish('app.created', s.name, { port: s.port });
      },
    },
  ];
}

/** What a served app's site says, for a step's message. */
const siteNote = (deps: AppDeps, s: AppSettings) => {
  const domains = deps.host.servedDomains(s);
  return domains.length ? `site validated by caddy and loaded: ${domains.join(', ')}` : 'no site (no domain)';
};

/**
 * The steps of a create, in order, each with its undo. The app is put on the host by one helper call
 * (create-app: directories, env, unit, site, start), which removes what it made when a part of it fails;
 * when a later step fails, the app is taken off the host again part by part.
 */
export function createSteps(
  deps: AppDeps,
  s: AppSettings,
  superuser: z.infer<typeof superuserSchema> | undefined,
): StepDef[] {
  const { host, privileged } = deps;
  return [
    ...headSteps(deps, s),
    {
      name: 'install',
      run: async () => {
        await host.createApp(s);
        return `${host.appDir(s.name)}, ${Object.keys(s.env).length} variables, ${unitName(s.name)} started; ${siteNote(deps, s)}`;
      },
      undo: async () => {
        const failed: string[] = [];
        for (const verb of ['remove-unit', 'remove-site', 'remove-env', 'purge-app'] as const)
          await privileged
            .run(verb, [s.name])
            .catch((err: unknown) => failed.push(`${verb}: ${(err as Error).message}`));
        if (failed.length) throw new Error(failed.join('; '));
      },
    },
    ...tailSteps(deps, s, superuser),
  ];
}

/**
 * The steps of a restore from a deleted app's archive: a create made one helper call a part, so that its
 * copy of the archive's data is put in after `create_dirs` (`afterDirs`), before the app first starts.
 */
export function restoreSteps(deps: AppDeps, s: AppSettings, afterDirs: StepDef): StepDef[] {
  const { host, privileged } = deps;
  return [
    ...headSteps(deps, s),
    {
      name: 'create_dirs',
      run: async () => {
        await privileged.run('prepare-app', [s.name]);
        return host.appDir(s.name);
      },
      undo: async () => {
        await privileged.run('purge-app', [s.name]);
      },
    },
    afterDirs,
    {
      name: 'install_env',
      run: async () => {
        await host.installEnv(s.name, s.env);
        return `${Object.keys(s.env).length} variables`;
      },
      undo: async () => {
        await privileged.run('remove-env', [s.name]);
      },
    },
    {
      name: 'install_unit',
      run: async () => {
        await host.installUnit(s);
        return unitName(s.name);
      },
      undo: async () => {
        await privileged.run('remove-unit', [s.name]);
      },
    },
    {
      name: 'install_site',
      skip: () => host.servedDomains(s).length === 0,
      run: async () => {
        await host.installSite(s);
        return siteNote(deps, s);
      },
      undo: async () => {
        await privileged.run('remove-site', [s.name]);
      },
    },
    // install-unit enabled it.
    {
      name: 'start',
      run: async () => {
        await privileged.run('start', [s.name]);
      },
      undo: async () => {
        await privileged.run('stop', [s.name]);
      },
    },
    ...tailSteps(deps, s, undefined),
  ];
}

/**
 * Creates apps: validated and recorded (`creating`) at once, one create at a
 * time so two cannot take the same port; then a deployment in the app's queue
 * fetches the release, installs the directory, env, unit and site through the
 * helper, starts it and waits for its health. A failure undoes every step.
 */
export function createCreation(deps: AppDeps, validateCreate: (input: CreateAppInput) => Promise<ValidationReport>) {
  const { store } = deps;
  const serial = mutex();

  deps.deployments.register('create', {
    params: z.object({ port: z.number(), pocketbase_version: z.string(), domains: z.array(z.string()) }),
    plan: async ({ app, input }) => {
      try {
        const { settings } = await store.load(app);
        return { steps: createSteps(deps, settings, createInput.parse(input)?.superuser) };
      } catch (err) {
        // A create that cannot start leaves no half-recorded app behind.
        await store.forget(app);
        throw err;
      }
    },
    // Undone whole: the half-made app is purged.
    recover: async (d) => {
      await runStraight(teardownSteps(deps, d.app, true, { recovered: true }).steps, d.id);
      return {
        status: 'rolled_back',
        error: 'interrupted by a stop of pocketd; the half-made app was removed on restart',
      };
    },
  });

  /** Creates an app as a deployment; answers with its id at once. */
  async function create(
    input: CreateAppInput,
    actor: string,
  ): Promise<{ deployment_id: number; name: string; port: number; pocketbase_version: string }> {
    return serial(async () => {
      const report = await validateCreate(input);
      if (!report.valid) throw invalid(report.errors);
      const settings: AppSettings = {
        name: input.name,
        port: report.resolved.port!,
        version: report.resolved.pocketbase_version!,
        domains: input.domains,
        env: input.env,
        memory_max: input.memory_max ?? null,
        cpu_quota: input.cpu_quota ?? null,
        sleep_after: null,
        wake_port: null,
      };
      await store.insertCreating(settings, input.health_path ?? null);
      const q = await deps.deployments
        .enqueue({
          app: settings.name,
          kind: 'create',
          actor,
          params: { port: settings.port, pocketbase_version: settings.version, domains: settings.domains },
          input: input.superuser ? { superuser: input.superuser } : undefined,
        })
        .catch(async (err: unknown) => {
          await store.forget(settings.name);
          throw err;
        });
      return {
        deployment_id: q.deployment_id,
        name: settings.name,
        port: settings.port,
        pocketbase_version: settings.version,
      };
    });
  }

  /** One create (or restore) at a time: two cannot take the same port. */
  return { create, serial };
}
