import cron, { type ScheduledTask } from 'node-cron';
import type { Database } from '../db/database.js';
import type { Selectable } from 'kysely';
import type { BackupKind, BackupsTable } from '../db/schema.js';
import { PocketdError, notFound } from '../shared/errors.js';
import type { Deployments, InTurn } from './deployments/engine.js';
import { appStore } from './apps/store.js';
import { z } from 'zod';
import type { Logger } from '../shared/log.js';
import type { Privileged } from '../host/privileged.js';
import { nowIso } from './clock.js';
import type { EventBus } from './events.js';

/** A backup as the store records it. */
export type Backup = Selectable<BackupsTable>;

/**
 * Backups of an app's pb_data, made by the helper (SQLite's `VACUUM INTO` for
 * databases, so a running, writing app's backup is consistent) and kept under a
 * root-owned directory; rows here say what exists. Scheduled per app with
 * node-cron; scheduled and pre-deploy backups are pruned to the app's count.
 */
export function createBackups(deps: {
  db: Database;
  privileged: Privileged;
  events: EventBus;
  log: Logger;
  deployments: Deployments;
  /** Manual backups kept per app at most (config backup_manual_max); one more is refused, never pruned. */
  manualMax?: number;
}) {
  const { db, privileged, deployments } = deps;
  const apps = appStore(db);
  /** The cron task of each distinct schedule, and the apps that have it. */
  const tasks = new Map<string, { apps: string[]; task: ScheduledTask }>();

  const manualMax = deps.manualMax ?? 20;

  /** A manual backup beyond the app's bound is refused: the admin chooses which to delete, pocketd never does. */
  async function checkManualRoom(app: string): Promise<void> {
    const { n } = await db
      .selectFrom('backups')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('app', '=', app)
      .where('kind', '=', 'manual')
      .where('status', 'in', ['ready', 'creating'])
      .executeTakeFirstOrThrow();
    if (Number(n) >= manualMax)
      throw new PocketdError(
        'BACKUP_LIMIT',
        `${app} has ${Number(n)} manual backups, the most kept per app (backup_manual_max); delete one first`,
      );
  }

  /** Makes a backup now; the row records a failure as well as a success. */
  async function create(app: string, kind: BackupKind, deploymentId: number | null = null): Promise<Backup> {
    if (kind === 'manual') await checkManualRoom(app);
    const row = await db
      .insertInto('backups')
      .values({ app, kind, status: 'creating', deployment_id: deploymentId, created_at: nowIso() })
      .returning('id')
      .executeTakeFirstOrThrow();
    try {
      const out = await privileged.run('backup', [app, String(row.id)], { timeoutMs: 30 * 60_000 });
      await db
        .updateTable('backups')
        .set({ status: 'ready', size_bytes: Number(out.trim()) || 0 })
        .where('id', '=', row.id)
        .execute();
    } catch (err) {
      await db
        .updateTable('backups')
        .set({ status: 'failed', error: (err as Error).message.slice(0, 2000) })
        .where('id', '=', row.id)
        .execute();
      throw err;
    }
    deps.events.publish('backup.created', app, { backup_id: row.id, kind });
    if (kind !== 'manual') await prune(app, kind);
    return get(app, row.id);
  }

  // A backup takes its turn in the app's queue like any other operation (a restart asked meanwhile waits for it).
  deployments.register('backup', {
    params: z.object({ kind: z.enum(['manual', 'scheduled']) }),
    plan: async ({ id, app, params }) => {
      await apps.readyAtTurn(app);
      return {
        steps: [
          {
            name: 'backup',
            run: async () => {
              const b = await create(app, params.kind, id);
              return `backup ${b.id} (${b.size_bytes ?? 0} bytes)`;
            },
          },
        ],
      };
    },
  });

  async function manual(app: string, actor: string): Promise<InTurn<Backup>> {
    await apps.admit(app, 'working');
    await checkManualRoom(app);
    return deployments.inTurn(
      await deployments.enqueue({ app, kind: 'backup', actor, params: { kind: 'manual' } }),
      async (d) => {
        const b = await db.selectFrom('backups').selectAll().where('deployment_id', '=', d.id).executeTakeFirst();
        if (d.status !== 'success' || !b)
          throw new PocketdError('BACKUP_FAILED', `the backup of ${app} ${d.status}: ${d.error ?? ''}`);
        return b;
      },
      30 * 60_000,
    );
  }

  async function prune(app: string, kind: BackupKind): Promise<void> {
    const keep = await apps.backupKeep(app);
    for (const id of await pastKeep(app, keep, { kind, status: 'ready' })) await removeFiles(app, id);
    // Failed attempts are kept as a record, as many as the ready ones, no more.
    const failed = await pastKeep(app, keep, { status: 'failed' });
    if (failed.length > 0) await db.deleteFrom('backups').where('id', 'in', failed).execute();
  }

  /** The ids of an app's backups (of a kind, in a status) beyond the newest `keep`. */
  async function pastKeep(
    app: string,
    keep: number,
    only: { kind?: BackupKind; status: 'ready' | 'failed' },
  ): Promise<number[]> {
    let q = db.selectFrom('backups').select('id').where('app', '=', app).where('status', '=', only.status);
    if (only.kind) q = q.where('kind', '=', only.kind);
    const rows = await q.orderBy('id', 'desc').offset(keep).limit(1_000_000).execute();
    return rows.map((b) => b.id);
  }

  async function removeFiles(app: string, id: number): Promise<void> {
    await privileged.run('delete-backup', [app, String(id)]);
    await db.deleteFrom('backups').where('id', '=', id).execute();
  }

  async function get(app: string, id: number): Promise<Backup> {
    const b = await db.selectFrom('backups').selectAll().where('app', '=', app).where('id', '=', id).executeTakeFirst();
    if (!b) throw notFound('backup', `${app}/${id}`);
    return b;
  }

  async function list(app: string): Promise<Backup[]> {
    await apps.require(app);
    return db.selectFrom('backups').selectAll().where('app', '=', app).orderBy('id', 'desc').execute();
  }

  async function remove(app: string, id: number): Promise<void> {
    await get(app, id);
    // An open backup file stays readable to a restore that is reading it.
    await removeFiles(app, id);
    deps.events.publish('backup.deleted', app, { backup_id: id });
  }

  /**
   * (Re)creates the cron tasks from the apps' schedules: one task per distinct schedule, naming the apps that
   * have it (a node-cron task holds about 35 KB; 200 apps on one nightly schedule are one task, not 200).
   */
  async function sync(): Promise<void> {
    const ready = await apps.ready();
    const wanted = new Map<string, string[]>();
    for (const a of ready)
      if (a.backup_schedule) wanted.set(a.backup_schedule, [...(wanted.get(a.backup_schedule) ?? []), a.name]);
    for (const [expr, t] of tasks) {
      if (wanted.has(expr)) continue;
      await t.task.stop();
      await t.task.destroy();
      tasks.delete(expr);
    }
    for (const [expr, names] of wanted) {
      const had = tasks.get(expr);
      if (had) {
        had.apps = names;
        continue;
      }
      const entry: { apps: string[]; task: ScheduledTask } = {
        apps: names,
        task: cron.schedule(expr, () => queueScheduled(entry.apps), { noOverlap: true, name: `backup-${expr}` }),
      };
      tasks.set(expr, entry);
    }
  }

  /** A scheduled backup of each app, in its turn in the queue; one already waiting is not queued twice. */
  async function queueScheduled(names: string[]): Promise<void> {
    for (const app of names) {
      try {
        if (await deployments.isQueued(app, 'backup')) continue;
        await deployments.enqueue({ app, kind: 'backup', actor: 'pocketd:schedule', params: { kind: 'scheduled' } });
      } catch (err) {
        deps.log.error({ app, err }, 'scheduled backup could not be queued');
      }
    }
  }

  /** Backups a stop of the daemon cut short: their partial files removed, their rows marked failed. */
  async function failInterrupted(): Promise<number> {
    const rows = await db.selectFrom('backups').select(['id', 'app']).where('status', '=', 'creating').execute();
    for (const b of rows) {
      await privileged.run('delete-backup', [b.app, String(b.id)]).catch(() => undefined);
      await db
        .updateTable('backups')
        .set({ status: 'failed', error: 'interrupted: pocketd stopped during this backup' })
        .where('id', '=', b.id)
        .execute();
    }
    return rows.length;
  }

  return {
    create,
    manual,
    list,
    get,
    remove,
    sync,
    failInterrupted,
    /** The snapshot a change took before it switched, if it got that far. */
    snapshotOf: async (deploymentId: number): Promise<number | null> =>
      (
        await db
          .selectFrom('backups')
          .select('id')
          .where('deployment_id', '=', deploymentId)
          .where('kind', '=', 'pre-deploy')
          .where('status', '=', 'ready')
          .executeTakeFirst()
      )?.id ?? null,
    /** The data as it stood when a deployment was replaced: the snapshot of the next change after it. */
    snapshotAfter: async (app: string, deploymentId: number): Promise<number | null> =>
      (
        await db
          .selectFrom('backups')
          .innerJoin('deployments', 'deployments.id', 'backups.deployment_id')
          .select('backups.id')
          .where('backups.app', '=', app)
          .where('backups.kind', '=', 'pre-deploy')
          .where('backups.status', '=', 'ready')
          .where('deployments.id', '>', deploymentId)
          .orderBy('deployments.id')
          .limit(1)
          .executeTakeFirst()
      )?.id ?? null,
    /** Puts a backup's pb_data in place; the app must be stopped. */
    restoreFiles: (app: string, id: number) =>
      privileged.run('restore-backup', [app, String(id)], { timeoutMs: 30 * 60_000 }),
    async stop() {
      for (const t of tasks.values()) {
        await t.task.stop();
        await t.task.destroy();
      }
      tasks.clear();
    },
  };
}

export type Backups = ReturnType<typeof createBackups>;
