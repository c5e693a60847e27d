import type { Generated, Selectable } from 'kysely';

/** A deleted app's archive (migration 0019): its tree is root's, in the archive directory. */
export interface ArchivesTable {
  id: Generated<number>;
  /** The identity of the app that was deleted; a restore makes a new one. */
  app_id: string;
  name: string;
  /** The archive's directory: a direct entry of the archive directory. */
  entry: string;
  size_bytes: number | null;
  /** JSON: the settings a restore gives the new app (no env). */
  settings: string;
  /** The env values, sealed (secret-box.ts) with `archive:<app_id>` as its associated data. */
  env_sealed: string;
  deleted_at: string;
  deleted_by: string | null;
}

export type ArchiveRow = Selectable<ArchivesTable>;
