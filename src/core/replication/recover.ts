import { z } from 'zod';
import { PocketdError } from '../../shared/errors.js';
import { replicaTargetSchema, type ReplicaTarget } from '../../shared/replica-rules.js';
import type { ListedApp, Manifest } from '../../shared/replica-files.js';
import type { Apps } from '../apps/apps.js';
import { patchAppSchema } from '../apps/model.js';
import type { AppDeps } from '../apps/deps.js';
import type { StepDef } from '../deployments/engine.js';
import { waitHealthStep } from '../changes/stop-snapshot.js';
import type { Replicas } from './replicas.js';
import type { RecoverResult as RecoverResultSchema } from '../../contract/replicas.js';

export const recoverParams = z.object({
  /** The app the target holds (its name and identity on the lost host). */
  source: z.string(),
  app_id: z.string(),
  /** The replica's own settings on the lost host (manifests before them: the defaults). */
  sync_seconds: z.number().int().optional(),
  retention_hours: z.number().int().optional(),
});
/** Kept apart from the params (a secret): the target, until the operation ends. */
const recoverInput = z.object({ target: replicaTargetSchema });

/** What the API says of an app a target holds: its configuration without env values. */
export interface HeldApp {
  dir: string;
  name: string | null;
  app_id: string | null;
  domains: string[];
  version: string | null;
  env_keys: string[];
  files: string | null;
  error: string | null;
}

/** What a recover queued and what it skipped: the API's answer, typed by its contract. */
export type RecoverResult = z.output<typeof RecoverResultSchema>;

/**
 * Disaster recovery (issue #27): a new host reads what a target holds (every
 * app's manifest, decrypted with the host key copied from the lost host),
 * creates the chosen apps with their configuration (queued creates), then a
 * `recover` operation in each app's queue puts back its files and its data up
 * to the last replicated second, starts it behind Caddy, checks its health,
 * and replicates it again to the same target under its new identity.
 */
export function registerRecover(deps: AppDeps & { replicas: Replicas; apps: () => Apps }) {
  const { privileged, store, deployments } = deps;

  function steps(app: string, port: number, p: z.infer<typeof recoverParams>, target: ReplicaTarget): StepDef[] {
    return [
      { name: 'validate', run: async () => `${p.source}.${p.app_id} from its replica` },
      {
        name: 'stop',
        run: async () => {
          await privileged.run('stop', [app]);
        },
      },
      {
        name: 'restore_files',
        run: async () => {
          await privileged.run('replica-files-restore', [app], {
            spec: { target, source: p.source, app_id: p.app_id },
            timeoutMs: 60 * 60_000,
          });
          return 'uploads, hooks, migrations and public files';
        },
      },
      {
        name: 'restore_data',
        run: async () => {
          await privileged.run('replica-restore', [app], {
            spec: { spec: { app_id: p.app_id, target }, source: p.source, timestamp: null },
            timeoutMs: 60 * 60_000,
          });
          return 'the latest the target holds';
        },
      },
      {
        name: 'start',
        run: async () => {
          await privileged.run('start', [app]);
        },
      },
      waitHealthStep(deps, app, port),
      {
        name: 'replicate',
        run: async () => {
          const { row } = await store.load(app);
          await deps.replicas.save(app, row.app_id, {
            target,
            ...(p.sync_seconds ? { sync_seconds: p.sync_seconds } : {}),
            ...(p.retention_hours ? { retention_hours: p.retention_hours } : {}),
          });
          return `replicating again as ${app}.${row.app_id}`;
        },
      },
    ];
  }

  deployments.register('recover', {
    params: recoverParams,
    plan: async ({ app, params, input }) => {
      const { settings } = await store.readyAtTurn(app);
      const parsed = recoverInput.safeParse(input);
      if (!parsed.success) throw new PocketdError('OPERATION_FAILED', 'the target of this recovery is gone');
      return { params, steps: steps(app, settings.port, params, parsed.data.target), onFailure: 'failed' };
    },
    // Cut short by a stop of pocketd: the target (a secret) was dropped with it; run recover again.
    recover: async () => ({ status: 'failed', error: 'interrupted by a stop of pocketd; run the recovery again' }),
  });

  /**
   * The settings a create does not take (sleep, backup schedule and how many
   * backups are kept) or must not take yet (the health path) are put back by a configure queued after the recover:
   * read from a target, so validated as a PATCH is; what this host refuses is
   * said and the app is recovered without it.
   */
  async function settingsAfter(app: string, m: Manifest, actor: string) {
    const wanted = {
      // Not given to the create: its health gate runs before the recover puts back the hooks a path may need.
      ...(m.health_path !== null ? { health_path: m.health_path } : {}),
      ...(m.sleep_after !== null ? { sleep_after: m.sleep_after } : {}),
      ...(m.backup_schedule !== null ? { backup_schedule: m.backup_schedule } : {}),
      ...(m.backup_keep !== undefined && m.backup_keep !== 7 ? { backup_keep: m.backup_keep } : {}),
    };
    if (Object.keys(wanted).length === 0) return { deployment_id: null, error: null };
    const input = patchAppSchema.safeParse(wanted);
    if (!input.success)
      return {
        deployment_id: null,
        error: input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      };
    const q = await deployments.enqueue({
      app,
      kind: 'configure',
      actor,
      params: { fields: Object.keys(wanted) },
      input: input.data,
    });
    return { deployment_id: q.deployment_id, error: null };
  }

  async function listed(target: ReplicaTarget): Promise<ListedApp[]> {
    try {
      const out = await privileged.run('replica-list', [], { spec: { target }, timeoutMs: 10 * 60_000 });
      return JSON.parse(out) as ListedApp[];
    } catch (err) {
      throw new PocketdError('OPERATION_FAILED', `the target could not be read: ${(err as Error).message}`);
    }
  }

  const held = (l: ListedApp): HeldApp => ({
    dir: l.dir,
    name: l.manifest?.name ?? null,
    app_id: l.manifest?.app_id ?? null,
    domains: l.manifest?.domains ?? [],
    version: l.manifest?.version ?? null,
    env_keys: Object.keys(l.manifest?.env ?? {}),
    files: l.files,
    error: l.error,
  });

  /** What the target holds: every app with its configuration (env values never answered). */
  async function list(target: ReplicaTarget): Promise<HeldApp[]> {
    return (await listed(target)).map(held);
  }

  /** Creates and recovers `names` (null: every app the target holds with a manifest). */
  async function recover(target: ReplicaTarget, names: string[] | null, actor: string): Promise<RecoverResult> {
    const result: RecoverResult = { queued: [], skipped: [] };
    const all = await listed(target);
    for (const n of names ?? [])
      if (!all.some((l) => l.manifest?.name === n)) result.skipped.push({ dir: n, reason: 'not in the target' });
    for (const l of all) {
      const m: Manifest | null = l.manifest;
      if (names && (!m || !names.includes(m.name))) continue;
      if (!m) {
        result.skipped.push({ dir: l.dir, reason: l.error ?? 'no manifest' });
        continue;
      }
      try {
        const created = await deps.apps().create(
          {
            name: m.name,
            domains: m.domains,
            env: m.env,
            pocketbase_version: m.version,
            ...(m.memory_max ? { memory_max: m.memory_max } : {}),
            ...(m.cpu_quota ? { cpu_quota: m.cpu_quota } : {}),
          },
          actor,
        );
        const q = await deployments.enqueue({
          app: m.name,
          kind: 'recover',
          actor,
          params: { source: m.name, app_id: m.app_id, ...m.replica },
          input: { target },
        });
        const settings = await settingsAfter(m.name, m, actor);
        result.queued.push({
          app: m.name,
          create_deployment_id: created.deployment_id,
          recover_deployment_id: q.deployment_id,
          configure_deployment_id: settings.deployment_id,
          ...(settings.error ? { settings_error: settings.error } : {}),
        });
      } catch (err) {
        result.skipped.push({ dir: l.dir, reason: (err as Error).message.slice(0, 500) });
      }
    }
    return result;
  }

  return { list, recover };
}

export type Recovery = ReturnType<typeof registerRecover>;
