import { createHash } from 'node:crypto';
import path from 'node:path';
import type { AppLayout } from './templates.js';
import { appUserOf, unitName } from './naming.js';

/** What an app's replica unit (templates/replica.service.hbs) and its transient units are rendered from. */
export interface ReplicaContext {
  name: string;
  apps_user: string;
  /** The replica's own user: never the app's. */
  replica_user: string;
  app_unit: string;
  app_dir: string;
  apps_dir: string;
  releases_dir: string;
  hidden: string[];
  /** Relative to /var/lib: systemd's StateDirectory= (Litestream's shadow WAL). */
  state_dir: string;
  /** Root's directory of replica configs: only the unit's own files are shown inside it. */
  config_dir: string;
  config_file: string;
  /** rclone's config for the same target (files and manifests): the unit's own file, like config_file. */
  rclone_file: string;
  key_file: string | null;
  litestream: string;
}

export const replicaContext = (
  l: AppLayout,
  name: string,
  files: { config_file: string; rclone_file: string; key_file: string | null; litestream: string },
): ReplicaContext => ({
  name,
  apps_user: appUserOf(name),
  replica_user: replicaUserOf(name),
  app_unit: unitName(name),
  app_dir: path.join(l.apps_dir, name),
  apps_dir: l.apps_dir,
  releases_dir: l.releases_dir,
  // The apps' env files and the daemon's store; its own config directory is shown with its own files only.
  hidden: [l.data_dir, l.env_dir],
  state_dir: `pocketd-replica/${name}`,
  config_dir: path.dirname(files.config_file),
  ...files,
});

/** The replica's user: `pr-<name>`, shortened as app users are when that would pass 32 characters. */
export function replicaUserOf(name: string): string {
  const plain = `pr-${name}`;
  if (plain.length <= 32) return plain;
  return `pr-${name.slice(0, 20)}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

/**
 * The replica unit's layout, written in it (`# pocketd-replica-layout: N`): the daemon installs again, when it
 * starts, every replica whose unit an older pocketd wrote. 2: the replica runs in the app's group, which may
 * write pb_data (0770), so Litestream can make the -wal and -shm files of an app at rest.
 */
export const REPLICA_LAYOUT = 2;
