import { z } from 'zod';
import { PocketdError, invalid, type FieldIssue } from '../../shared/errors.js';
import { envSchema } from '../../shared/rules.js';
import type { AppDeps } from './deps.js';
import type { Applied } from './configure.js';
import { MASK, maskEnv, renderEnvFile, superuserSchema } from './model.js';
import type { InTurn } from '../deployments/engine.js';
import { isAsleep } from '../sleep/sleep-state.js';

type SuperuserSpec = z.infer<typeof superuserSchema>;

/**
 * What lives inside the app and not in its unit: its environment (written by
 * the helper, applied by a restart when asked) and its PocketBase superuser.
 * Values travel as the deployment's kept-apart input, never in its params.
 */
export function createEnv(deps: AppDeps) {
  const { store, host, privileged, deployments } = deps;

  deployments.register('env', {
    params: z.object({ keys: z.array(z.string()), restart: z.boolean() }),
    plan: async ({ app, params, input }) => {
      const { settings } = await store.readyAtTurn(app);
      const next = envSchema.parse(input ?? {});
      const changed = renderEnvFile(next) !== renderEnvFile(settings.env);
      const running = (await host.unitDetails(app))?.active_state === 'active';
      const restart = params.restart && changed && running;
      return {
        steps: [
          {
            name: 'install_env',
            skip: () => !changed,
            run: async () => {
              await host.installEnv(app, next);
              await store.setEnv(app, next);
              deps.events.publish('app.env_changed', app, { keys: Object.keys(next) });
              return `${Object.keys(next).length} variables${running && !restart ? '; a restart applies them' : ''}`;
            },
            undo: async () => {
              await host.installEnv(app, settings.env);
              await store.setEnv(app, settings.env);
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
    },
  });

  /**
   * Replaces the environment. A value sent back as the mask keeps the stored one,
   * so an editor can save what it was shown. Says whether the running app needs a
   * restart to see it, and restarts it (health-checked) when asked.
   */
  async function putEnv(name: string, env: Record<string, string>, restart: boolean, actor: string) {
    const { settings } = await store.admit(name);
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
    return deployments.inTurn(q, async (d) => {
      if (d.status !== 'success')
        throw new PocketdError('OPERATION_FAILED', `saving the environment of ${name} ${d.status}: ${d.error ?? ''}`);
      const done = (step: string) => d.steps.some((s) => s.name === step && s.status === 'success');
      const changed = done('install_env');
      const restarted = done('restart');
      const running = (await host.unitDetails(name))?.active_state === 'active';
      return { env: maskEnv(next), changed, restart_required: changed && running && !restarted, restarted };
    });
  }

  deployments.register('superuser', {
    params: z.object({ email: z.string() }),
    plan: async ({ app, input }) => {
      const { settings } = await store.readyAtTurn(app);
      const spec = superuserSchema.parse(input);
      return {
        steps: [
          {
            name: 'set_superuser',
            run: async () => {
              // The helper writes the app's database from inside its sandbox: the app must run, or sleep (its
              // database is then at rest, as PocketBase left it; it is written as it would be while it runs).
              const unit = await host.unitDetails(app);
              const asleep = settings.sleep_after !== null && isAsleep(settings, unit, await host.socketDetails(app));
              if (unit?.active_state !== 'active' && !asleep)
                throw new Error(`${app} is not running; start it to set its superuser`);
              await privileged.run('superuser', [app], { spec });
              return `superuser ${spec.email}`;
            },
          },
        ],
      };
    },
  });

  /** Creates the app's PocketBase superuser, or sets a new password for one that exists. */
  async function setSuperuser(
    name: string,
    spec: SuperuserSpec,
    actor: string,
  ): Promise<InTurn<Applied & { email: string }>> {
    await store.admit(name);
    const q = await deployments.enqueue({
      app: name,
      kind: 'superuser',
      actor,
      params: { email: spec.email },
      input: spec,
    });
    return deployments.inTurn(q, async (d) => {
      if (d.status !== 'success')
        throw new PocketdError('OPERATION_FAILED', `setting the superuser of ${name} ${d.status}: ${d.error ?? ''}`);
      return { deployment_id: d.id, status: d.status, email: spec.email };
    });
  }

  return { putEnv, setSuperuser };
}
