import path from 'node:path';
import { z } from 'zod';
import type { Database } from '../../db/database.js';
import type { ArchiveRow } from '../../db/schema-archives.js';
import { ARCHIVE_ENTRY_PATTERN } from '../../shared/protocol.js';
import { envSchema } from '../../shared/rules.js';
import { notFound } from '../../shared/errors.js';
import type { SecretBox } from '../auth/secret-box.js';
import { nowIso } from '../clock.js';
import type { StoredApp } from '../apps/store.js';

/** What an archive keeps of the app's settings (env values apart, sealed); read back through this schema. */
export const archivedSettingsSchema = z.object({
  version: z.string(),
  domains: z.array(z.string()),
  memory_max: z.string().nullable(),
  cpu_quota: z.number().nullable(),
  health_path: z.string().nullable(),
  backup_schedule: z.string().nullable(),
  backup_keep: z.number().int(),
  sleep_after: z.number().int().nullable(),
  env_keys: z.array(z.string()),
});
export type ArchivedSettings = z.infer<typeof archivedSettingsSchema>;

export interface ArchiveRecord {
  id: number;
  name: string;
  entry: string;
  deleted_at: string;
  size_bytes: number | null;
  settings: ArchivedSettings;
}

const aadOf = (appId: string) => `archive:${appId}`;
const recordOf = (r: ArchiveRow): ArchiveRecord => ({
  id: r.id,
  name: r.name,
  entry: r.entry,
  deleted_at: r.deleted_at,
  size_bytes: r.size_bytes,
  settings: archivedSettingsSchema.parse(JSON.parse(r.settings)),
});

/**
 * The one place that reads and writes the `archives` table. Env values go in sealed (AES-256-GCM
 * under the store's key, bound to the archived identity) and come out only for a restore.
 */
export function archiveStore(db: Database, box: SecretBox, archiveDir: string) {
  /** Records what archive-app printed (`<dir>\n<bytes>`) for the app about to be forgotten; null when it is not an archive entry. */
  async function record(app: StoredApp, said: string): Promise<number | null> {
    const [where = '', bytes = ''] = said.split('\n');
    const entry = path.basename(where);
    if (path.dirname(where) !== archiveDir || !ARCHIVE_ENTRY_PATTERN.test(entry)) return null;
    const { row, settings: s } = app;
    const settings: ArchivedSettings = {
      version: s.version,
      domains: s.domains,
      memory_max: s.memory_max,
      cpu_quota: s.cpu_quota,
      health_path: row.health_path ?? null,
      backup_schedule: row.backup_schedule,
      backup_keep: row.backup_keep,
      sleep_after: s.sleep_after,
      env_keys: Object.keys(s.env),
    };
    const sealed = await box.seal(Buffer.from(JSON.stringify(s.env)), aadOf(row.app_id));
    const r = await db
      .insertInto('archives')
      .values({
        app_id: row.app_id,
        name: row.name,
        entry,
        size_bytes: /^\d+$/.test(bytes) ? Number(bytes) : null,
        settings: JSON.stringify(settings),
        env_sealed: sealed,
        deleted_at: nowIso(),
        deleted_by: null,
      })
      .onConflict((oc) => oc.column('app_id').doNothing())
      .returning('id')
      .executeTakeFirst();
    return r?.id ?? null;
  }

  async function get(id: number): Promise<ArchiveRecord> {
    const r = await db.selectFrom('archives').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound('archive', String(id));
    return recordOf(r);
  }

  /** The env values of an archive, unsealed: only a restore asks, and only into the new app's store row. */
  async function env(id: number): Promise<Record<string, string>> {
    const r = await db.selectFrom('archives').select(['app_id', 'env_sealed']).where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound('archive', String(id));
    return envSchema.parse(JSON.parse((await box.open(r.env_sealed, aadOf(r.app_id))).toString('utf8')));
  }

  return {
    record,
    get,
    env,
    /** Newest first. */
    list: async () =>
      (await db.selectFrom('archives').selectAll().orderBy('deleted_at', 'desc').orderBy('id', 'desc').execute()).map(
        recordOf,
      ),
    /** Archives past the retention: older than `keepDays`, or beyond the newest `max`. */
    expired: async (keepDays: number, max: number): Promise<ArchiveRecord[]> => {
      const rows = await db
        .selectFrom('archives')
        .selectAll()
        .orderBy('deleted_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      const cutoff = new Date(Date.now() - keepDays * 86_400_000).toISOString();
      return rows.filter((r, i) => i >= max || r.deleted_at < cutoff).map(recordOf);
    },
    forget: async (id: number) => {
      await db.deleteFrom('archives').where('id', '=', id).execute();
    },
  };
}

export type ArchiveStore = ReturnType<typeof archiveStore>;
