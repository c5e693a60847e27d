import { z } from 'zod';
import { PocketdError } from '../../shared/errors.js';
import { replicaTargetSchema, type ReplicaTarget } from '../../shared/replica-rules.js';
import type { ListedApp, Manifest } from '../../shared/replica-files.js';
import type { Apps } from '../apps/apps.js';
import type { AppDeps } from '../apps/deps.js';
import type { StepDef } from '../deployments/engine.js';
import { waitHealthStep } from '../changes/stop-snapshot.js';
import type { Replicas } from './replicas.js';

export const recoverParams = z.object({
  /** The app the target holds (its name and identity on the lost host). */
  source: z.string(),
  app_id: z.string(),
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

export interface RecoverResult {
  queued: { app: string; create_deployment_id: number; recover_deployment_id: number }[];
  skipped: { dir: string; reason: string }[];
}

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
          await deps.replicas.save(app, row.app_id, { target });
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
            ...(m.health_path ? { health_path: m.health_path } : {}),
          },
          actor,
        );
        const q = await deployments.enqueue({
          app: m.name,
          kind: 'recover',
          actor,
          params: { source: m.name, app_id: m.app_id },
          input: { target },
        });
        result.queued.push({
          app: m.name,
          create_deployment_id: created.deployment_id,
          recover_deployment_id: q.deployment_id,
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
