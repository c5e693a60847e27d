import type { Database } from '../db/database.js';
import { PocketdError, invalid, type FieldIssue } from '../errors.js';
import { readIfExists } from '../host/files.js';
import type { Privileged } from '../host/privileged.js';
import type { AppHost } from './app-host.js';
import type { z } from 'zod';
import {
  MASK,
  maskEnv,
  patchAppSchema,
  renderEnvFile,
  superuserSchema,
  type AppSettings,
  type PatchAppInput,
} from './app-model.js';
import { nowIso } from './clock.js';
import type { Deployment, Deployments, InTurn, StepDef } from './deployments.js';
import type { EventBus } from './events.js';

type Loaded = { row: { status: string; desired_state: string }; settings: AppSettings };

export interface AppOpsDeps {
  db: Database;
  deployments: Deployments;
  events: EventBus;
  host: AppHost;
  privileged: Privileged;
  loadSettings(name: string): Promise<Loaded>;
  teardown(name: string, purge: boolean): { steps: StepDef[] };
  /** After a configure saved new settings or a delete ended (backup schedules follow them). */
  onConfigured(): Promise<void>;
}

/**
 * The operations on an existing app that change it: start, stop, restart,
 * configure, repair, env, delete. Each is a deployment in the app's queue: asked
 * while another runs, it waits its turn (202 with its place) instead of being
 * refused; asked when nothing is ahead, the caller waits for it (bounded) and
 * gets its outcome.
 */
export function createAppOps(deps: AppOpsDeps) {
  const { db, host, privileged, deployments } = deps;

  /** The app must exist and not be on its way out; a change asked during its create waits for the create. */
  async function precheck(name: string): Promise<Loaded> {
    const loaded = await deps.loadSettings(name);
    if (loaded.row.status === 'deleting') throw new PocketdError('APP_DELETING', `app ${name} is being deleted`);
    return loaded;
  }

  const inTurn = deployments.inTurn;

  /** Ready when its turn comes; the app as it is then. */
  async function current(name: string): Promise<Loaded> {
    const loaded = await deps.loadSettings(name);
    if (loaded.row.status !== 'ready') throw new Error(`app ${name} is ${loaded.row.status}`);
    return loaded;
  }

  // --- start, stop, restart -------------------------------------------------------

  for (const action of ['start', 'stop', 'restart'] as const) {
    deployments.register(action, async ({ app }) => {
      await current(app);
      const before = await host.unitDetails(app);
      return {
        steps: [
          {
            name: action,
            run: async () => {
              await privileged.run(action, [app]);
              const d =
                action === 'stop'
                  ? await host.waitForUnit(app, (u) => u.active_state === 'inactive' || u.active_state === 'failed')
                  : await host.waitForUnit(
                      app,
                      (u) =>
                        u.active_state === 'active' &&
                        u.main_pid !== null &&
                        (action === 'start' || u.main_pid !== before?.main_pid),
                    );
              return `${d.active_state}/${d.sub_state}${d.main_pid ? `, pid ${d.main_pid}` : ''}`;
            },
          },
          {
            name: 'save',
            run: async () => {
              await db
                .updateTable('apps')
                .set({ desired_state: action === 'stop' ? 'stopped' : 'running', updated_at: nowIso() })
                .where('name', '=', app)
                .execute();
              deps.events.publish(
                `app.${action === 'stop' ? 'stopped' : action === 'start' ? 'started' : 'restarted'}`,
                app,
              );
            },
          },
        ],
      };
    });
  }

  async function control(
    name: string,
    action: 'start' | 'stop' | 'restart',
    actor: string,
  ): Promise<InTurn<Deployment>> {
    await precheck(name);
    return inTurn(
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

  // --- configure and repair -------------------------------------------------------------

  /** Applies new settings from the app as it is when its turn comes: re-renders, reinstalls only what changed, restarts only if needed. */
  async function planConfigure(name: string, input: PatchAppInput, repair: boolean): Promise<StepDef[]> {
    const { row, settings: old } = await current(name);
    if (repair) await host.refreshRoutes();
    const next: AppSettings = {
      ...old,
      domains: input.domains ?? old.domains,
      env: input.env ?? old.env,
      memory_max: input.memory_max === undefined ? old.memory_max : input.memory_max,
      cpu_quota: input.cpu_quota === undefined ? old.cpu_quota : input.cpu_quota,
    };
    await assertDomainsFree(name, input.domains);
    const newUnit = host.renderUnit(next);
    const newSite = host.renderSite(next);
    const unitChanged = (await readIfExists(host.unitFile(name))) !== newUnit;
    // The env file is not readable by the daemon: a repair always writes it again.
    const envChanged = renderEnvFile(old.env) !== renderEnvFile(next.env) || repair;
    // A repair also puts the site back when only Caddy's live routes were changed behind pocketd (a reload restores them).
    const siteChanged =
      (await readIfExists(host.siteFile(name))) !== newSite ||
      (repair && newSite !== null && !(await host.routesMatch(next)).match);
    const running = (await host.unitDetails(name))?.active_state === 'active';
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
        skip: () => !running || !(unitChanged || envChanged),
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
      {
        name: 'wait_health',
        skip: () => !startNeeded && (!running || !(unitChanged || envChanged)),
        run: () => host.waitHealthy(name, next.port),
      },
      {
        name: 'save',
        run: async () => {
          await db.transaction().execute(async (trx) => {
            await trx
              .updateTable('apps')
              .set({
                env: JSON.stringify(next.env),
                memory_max: next.memory_max,
                cpu_quota: next.cpu_quota,
                updated_at: nowIso(),
                ...(input.backup_schedule !== undefined ? { backup_schedule: input.backup_schedule } : {}),
                ...(input.backup_keep !== undefined ? { backup_keep: input.backup_keep } : {}),
              })
              .where('name', '=', name)
              .execute();
            if (input.domains) {
              await trx.deleteFrom('app_domains').where('app', '=', name).execute();
              if (next.domains.length)
                await trx
                  .insertInto('app_domains')
                  .values(next.domains.map((domain, position) => ({ domain, app: name, position })))
                  .execute();
            }
          });
          deps.events.publish('app.configured', name);
        },
      },
    ];
  }

  async function assertDomainsFree(name: string, domains: string[] | undefined) {
    if (!domains?.length) return;
    const taken = await db
      .selectFrom('app_domains')
      .select(['domain', 'app'])
      .where('domain', 'in', domains)
      .where('app', '!=', name)
      .execute();
    if (taken.length) {
      throw invalid(
        taken.map((t) => ({
          field: `domains.${domains.indexOf(t.domain)}`,
          code: 'DOMAIN_TAKEN',
          message: `${t.domain} is used by app ${t.app}`,
        })),
      );
    }
  }

  for (const kind of ['configure', 'repair'] as const) {
    deployments.register(kind, async ({ app, input }) => ({
      steps: await planConfigure(app, kind === 'repair' ? {} : patchAppSchema.parse(input), kind === 'repair'),
      after: async (status) => {
        if (status === 'success') await deps.onConfigured();
      },
    }));
  }

  type Applied = { deployment_id: number; status: string };
  const applied = async (d: Deployment): Promise<Applied> => ({ deployment_id: d.id, status: d.status });

  /** The input (env values included) is kept apart from the public params until the configure ends. */
  async function configure(name: string, input: PatchAppInput, actor: string): Promise<InTurn<Applied>> {
    await precheck(name);
    await assertDomainsFree(name, input.domains);
    return inTurn(
      await deployments.enqueue({ app: name, kind: 'configure', actor, params: { fields: Object.keys(input) }, input }),
      applied,
    );
  }

  /** Puts pocketd's unit, site and env back (drift), and starts the app if it should run. */
  async function repair(name: string, actor: string): Promise<InTurn<Applied>> {
    await precheck(name);
    return inTurn(await deployments.enqueue({ app: name, kind: 'repair', actor }), applied);
  }

  // --- environment -----------------------------------------------------------------

  deployments.register('env', async ({ app, params, input }) => {
    const { settings } = await current(app);
    const next = (input ?? {}) as Record<string, string>;
    const changed = renderEnvFile(next) !== renderEnvFile(settings.env);
    const running = (await host.unitDetails(app))?.active_state === 'active';
    const restart = params.restart === true && changed && running;
    return {
      steps: [
        {
          name: 'install_env',
          skip: () => !changed,
          run: async () => {
            await host.installEnv(app, next);
            await db
              .updateTable('apps')
              .set({ env: JSON.stringify(next), updated_at: nowIso() })
              .where('name', '=', app)
              .execute();
            deps.events.publish('app.env_changed', app, { keys: Object.keys(next) });
            return `${Object.keys(next).length} variables${running && !restart ? '; a restart applies them' : ''}`;
          },
          undo: async () => {
            await host.installEnv(app, settings.env);
            await db
              .updateTable('apps')
              .set({ env: JSON.stringify(settings.env), updated_at: nowIso() })
              .where('name', '=', app)
              .execute();
          },
        },
        {
          name: 'restart',
          skip: () => !restart,
          run: async () => {
            await privileged.run('restart', [app]);
          },
        },
        {
          name: 'wait_health',
          skip: () => !restart,
          run: async () => {
            const r = await host.waitHealthy(app, settings.port);
            deps.events.publish('app.restarted', app);
            return r;
          },
        },
      ],
    };
  });

  /**
   * Replaces the environment. A value sent back as the mask keeps the stored one,
   * so an editor can save what it was shown. Says whether the running app needs a
   * restart to see it, and restarts it (health-checked) when asked.
   */
  async function putEnv(name: string, env: Record<string, string>, restart: boolean, actor: string) {
    const { settings } = await precheck(name);
    const next: Record<string, string> = {};
    const issues: FieldIssue[] = [];
    for (const [k, v] of Object.entries(env)) {
      if (v !== MASK) next[k] = v;
      else if (settings.env[k] !== undefined) next[k] = settings.env[k]!;
      else
        issues.push({
          field: `env.${k}`,
          code: 'MASKED_UNKNOWN',
          message: `${k} is new; send its value, not the mask`,
        });
    }
    if (issues.length) throw invalid(issues);
    const q = await deployments.enqueue({
      app: name,
      kind: 'env',
      actor,
      params: { keys: Object.keys(next), restart },
      input: next,
    });
    return inTurn(q, async (d) => {
      if (d.status !== 'success')
        throw new PocketdError('OPERATION_FAILED', `saving the environment of ${name} ${d.status}: ${d.error ?? ''}`);
      const done = (step: string) => d.steps.some((s) => s.name === step && s.status === 'success');
      const changed = done('install_env');
      const restarted = done('restart');
      const running = (await host.unitDetails(name))?.active_state === 'active';
      return { env: maskEnv(next), changed, restart_required: changed && running && !restarted, restarted };
    });
  }

  // --- delete ---------------------------------------------------------------------

  deployments.register('delete', async ({ app, params }) => {
    await deps.loadSettings(app);
    await db.updateTable('apps').set({ status: 'deleting', updated_at: nowIso() }).where('name', '=', app).execute();
    return {
      steps: deps.teardown(app, params.purge === true).steps,
      after: async (status) => {
        if (status !== 'success')
          await db
            .updateTable('apps')
            .set({ status: 'failed', updated_at: nowIso() })
            .where('name', '=', app)
            .execute();
        // What was asked after the delete has no app left to act on.
        else await deployments.cancelQueued(app, 'cancelled: the app was deleted');
        await deps.onConfigured();
      },
    };
  });

  /** A delete ends what waits for the app first (it would be pointless), then takes its turn. */
  async function remove(
    name: string,
    purge: boolean,
    actor: string,
  ): Promise<InTurn<Applied & { error: string | null }>> {
    await precheck(name);
    await deployments.cancelQueued(name, `cancelled: a delete of the app by ${actor} came after it`);
    return inTurn(
      await deployments.enqueue({ app: name, kind: 'delete', actor, params: { purge } }),
      async (d) => ({ deployment_id: d.id, status: d.status, error: d.error }),
      120_000,
    );
  }

  // --- PocketBase superuser -------------------------------------------------------

  deployments.register('superuser', async ({ app, input }) => {
    await current(app);
    const spec = superuserSchema.parse(input);
    return {
      steps: [
        {
          name: 'set_superuser',
          run: async () => {
            // The helper signs in with a throwaway password and sets this one over the app's HTTP API: it must run.
            if ((await host.unitDetails(app))?.active_state !== 'active')
              throw new Error(`${app} is not running; start it to set its superuser`);
            await privileged.run('superuser', [app], { spec });
            return `superuser ${spec.email}`;
          },
        },
      ],
    };
  });

  /** Creates the app's PocketBase superuser, or sets a new password for one that exists. */
  async function setSuperuser(
    name: string,
    spec: SuperuserSpec,
    actor: string,
  ): Promise<InTurn<Applied & { email: string }>> {
    await precheck(name);
    const q = await deployments.enqueue({
      app: name,
      kind: 'superuser',
      actor,
      params: { email: spec.email },
      input: spec,
    });
    return inTurn(q, async (d) => {
      if (d.status !== 'success')
        throw new PocketdError('OPERATION_FAILED', `setting the superuser of ${name} ${d.status}: ${d.error ?? ''}`);
      return { deployment_id: d.id, status: d.status, email: spec.email };
    });
  }

  return { control, autoRestart, configure, repair, putEnv, remove, setSuperuser };
}

type SuperuserSpec = z.infer<typeof superuserSchema>;

export type AppOps = ReturnType<typeof createAppOps>;
