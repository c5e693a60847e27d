import path from 'node:path';
import type { Apps } from '../core/apps/apps.js';
import type { AppDeps } from '../core/apps/deps.js';
import { archiveStore } from '../core/archives/archive-store.js';
import { createArchives } from '../core/archives/archives.js';
import { createSecretBox } from '../core/auth/secret-box.js';
import type { Database } from '../db/database.js';

/**
 * Deleted apps' archives, wired: their env values sealed with the store's own key (the one the
 * admins' second factor uses), and told by every delete that archives (appDeps.onArchived).
 */
export function wireArchives(db: Database, appDeps: AppDeps, apps: Apps) {
  const { config } = appDeps;
  const box = createSecretBox(path.join(config.data_dir, 'secrets.key'));
  const archives = createArchives(appDeps, apps, archiveStore(db, box, config.archive_dir), {
    keepDays: config.archive_keep_days,
    max: config.archive_max,
  });
  appDeps.onArchived = archives.onArchived;
  archives.start();
  return archives;
}
