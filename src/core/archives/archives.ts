import { z } from 'zod';
import type { AppDeps } from '../apps/deps.js';
import type { Apps } from '../apps/apps.js';
import { restoreSteps } from '../apps/create.js';
import { runStraight, teardownSteps } from '../apps/delete.js';
import type { AppSettings } from '../apps/model.js';
import type { StepDef } from '../deployments/engine.js';
import { PocketdError, invalid } from '../../shared/errors.js';
import type { ArchiveRecord, ArchiveStore } from './archive-store.js';

/** What a restore asks: the new app's name (the old one by default) and, when the old ones are taken, its domains. */
export interface RestoreRequest {
  name?: string | undefined;
  domains?: string[] | undefined;
}

const params = z.object({
  archive_id: z.number().int().positive(),
  port: z.number(),
  pocketbase_version: z.string(),
  domains: z.array(z.string()),
});

/**
 * Deleted apps' archives (#31): recorded when a delete archives an app, listed from the store,
 * restored as a NEW app (a new identity: the old app's tokens, backups and history stay with the
 * old one), deleted for good, and pruned by age and count. A restore is a create whose data comes
 * from a copy of the archive: the archive is only read, so a failed restore leaves it as it was
 * and the same archive can be restored again (a clone) until it is deleted or expires.
 */
export function createArchives(
  deps: AppDeps,
  apps: Pick<Apps, 'validateCreate' | 'serialCreate'>,
  store: ArchiveStore,
  opts: { keepDays: number; max: number },
) {
  const { privileged, deployments } = deps;
  /** Archives a restore is reading now: not deleted or pruned under it. */
  const reading = new Map<number, number>();
  const hold = (id: number) => reading.set(id, (reading.get(id) ?? 0) + 1);
  const release = (id: number) => {
    const n = (reading.get(id) ?? 1) - 1;
    if (n > 0) reading.set(id, n);
    else reading.delete(id);
  };

  /** A restore is a create whose data comes in after its directories are made, before it first starts. */
  const stepsOf = (s: AppSettings, a: ArchiveRecord): StepDef[] =>
    restoreSteps(deps, s, {
      name: 'copy_archive',
      run: async () => {
        const copied = await privileged.run('restore-archive', [s.name], {
          spec: { archive: a.entry },
          timeoutMs: 60 * 60_000,
        });
        return `archive ${a.id} of ${a.name} (deleted ${a.deleted_at}) copied: ${copied.trim()}`;
      },
      // create_dirs' undo purges the new app's directory with what was copied into it.
    });

  deployments.register('restore-archive', {
    params,
    plan: async ({ app, params: p }) => {
      try {
        const archive = await store.get(p.archive_id);
        const { settings } = await deps.store.load(app);
        return {
          steps: stepsOf(settings, archive),
          after: async () => release(p.archive_id),
        };
      } catch (err) {
        release(p.archive_id);
        await deps.store.forget(app);
        throw err;
      }
    },
    // Undone whole, as a create is: the half-made app is purged; the archive was only read.
    recover: async (d) => {
      await runStraight(teardownSteps(deps, d.app, true, { recovered: true }).steps, d.id);
      return {
        status: 'rolled_back',
        error:
          'interrupted by a stop of pocketd; the half-restored app was removed on restart (the archive is as it was)',
      };
    },
  });

  /** Restores an archive as a new app; answers with the deployment to follow. */
  async function restore(id: number, req: RestoreRequest, actor: string) {
    return apps.serialCreate(async () => {
      const a = await store.get(id);
      const s = a.settings;
      const name = req.name ?? a.name;
      const domains = req.domains ?? s.domains;
      const env = await store.env(id);
      const report = await apps.validateCreate({
        name,
        domains,
        pocketbase_version: s.version,
        env,
        ...(s.memory_max !== null ? { memory_max: s.memory_max } : {}),
        ...(s.cpu_quota !== null ? { cpu_quota: s.cpu_quota } : {}),
      });
      if (!report.valid) throw invalid(report.errors);
      const settings: AppSettings = {
        name,
        port: report.resolved.port!,
        version: report.resolved.pocketbase_version!,
        domains,
        env,
        memory_max: s.memory_max,
        cpu_quota: s.cpu_quota,
        // Comes back awake: letting it sleep is a check of its hooks (sleep_after says what it had).
        sleep_after: null,
        wake_port: null,
      };
      await deps.store.insertCreating(settings, s.health_path);
      await deps.store.saveSettings(name, {
        settings,
        domainsChanged: false,
        backup_schedule: s.backup_schedule,
        backup_keep: s.backup_keep,
      });
      hold(id);
      const q = await deployments
        .enqueue({
          app: name,
          kind: 'restore-archive',
          actor,
          params: { archive_id: id, port: settings.port, pocketbase_version: settings.version, domains },
        })
        .catch(async (err: unknown) => {
          release(id);
          await deps.store.forget(name);
          throw err;
        });
      return { deployment_id: q.deployment_id, name, port: settings.port, pocketbase_version: settings.version };
    });
  }

  /** Deletes an archive for good: its tree (root, descriptor-based), then its record. */
  async function remove(id: number): Promise<void> {
    const a = await store.get(id);
    if (reading.has(id)) throw new PocketdError('ARCHIVE_BUSY', `archive ${id} is being restored; try when it ends`);
    await privileged.run('delete-archive', [], { spec: { archive: a.entry }, timeoutMs: 30 * 60_000 });
    await store.forget(id);
  }

  /** Deletes the archives past the retention (age, count); answers how many went. */
  async function prune(): Promise<number> {
    let n = 0;
    for (const a of await store.expired(opts.keepDays, opts.max)) {
      if (reading.has(a.id)) continue;
      try {
        await remove(a.id);
        n++;
      } catch (err) {
        deps.log.warn({ archive: a.id, err: (err as Error).message }, 'an expired archive could not be deleted');
      }
    }
    return n;
  }

  /** Told by a delete: keeps the app's settings and sealed env beside its archived data, then prunes. */
  async function onArchived(name: string, said: string): Promise<void> {
    const id = await store.record(await deps.store.load(name), said);
    if (id === null) deps.log.warn({ app: name }, 'the archive the helper named is not an entry of archive_dir');
    await prune();
  }

  let timer: NodeJS.Timeout | null = null;
  return {
    list: () => store.list(),
    restore,
    remove,
    prune,
    onArchived,
    retention: opts,
    /** Prunes now and every hour (an archive expires by age too). */
    start: () => {
      void prune().catch(() => undefined);
      timer = setInterval(() => void prune().catch(() => undefined), 3_600_000);
      timer.unref();
    },
    stop: async () => {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}

export type Archives = ReturnType<typeof createArchives>;
