import type { Database } from '../../db/database.js';
import type { Privileged } from '../../host/privileged.js';
import type { Logger } from '../../shared/log.js';
import type { Manifest } from '../../shared/replica-files.js';
import type { ReplicaSpec } from '../../shared/replica-rules.js';
import { appStore } from '../apps/store.js';
import type { Replicas } from './replicas.js';

/**
 * An app's files that are not in SQLite (uploads, hooks, migrations, public
 * files: the bundle in place) and its configuration go to its replica's target
 * when they changed (issue #27). The helper compares a signature of the tree
 * and the manifest with the last one pushed; an unchanged app costs a walk of
 * its tree in its sandbox and no upload. Signatures are kept in memory: after
 * a restart of pocketd, the first round pushes each app once more.
 */
export function createReplicaFiles(deps: { db: Database; privileged: Privileged; replicas: Replicas; log: Logger }) {
  const apps = appStore(deps.db);
  const last = new Map<string, string>();

  /** What the target keeps of the app's configuration (env values included: the whole manifest is encrypted). */
  async function manifestOf(app: string, spec: ReplicaSpec): Promise<Manifest> {
    const { row, settings } = await apps.load(app);
    return {
      format: 1,
      name: row.name,
      app_id: row.app_id,
      domains: settings.domains,
      version: settings.version,
      memory_max: settings.memory_max,
      cpu_quota: settings.cpu_quota,
      env: settings.env,
      health_path: row.health_path,
      sleep_after: row.sleep_after,
      backup_schedule: row.backup_schedule,
      bundle: row.bundle,
      backup_keep: row.backup_keep,
      replica: { sync_seconds: spec.sync_seconds, retention_hours: spec.retention_hours },
    };
  }

  /** Pushes the app's files and manifest when they changed; answers whether it uploaded. */
  async function push(app: string): Promise<boolean> {
    const spec = await deps.replicas.specOf(app);
    const manifest = await manifestOf(app, spec);
    const key = spec.app_id;
    const out = await deps.privileged.run('replica-files', [app], {
      spec: { spec, manifest, last: last.get(key) ?? null },
      timeoutMs: 60 * 60_000,
    });
    const r = JSON.parse(out) as { signature: string; pushed: boolean };
    last.set(key, r.signature);
    if (r.pushed) deps.log.info({ app }, 'replica files and manifest pushed');
    return r.pushed;
  }

  return { push, manifestOf };
}

export type ReplicaFiles = ReturnType<typeof createReplicaFiles>;
