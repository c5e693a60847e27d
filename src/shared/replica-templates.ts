import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { TemplateError, type AppLayout } from './templates.js';
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

const UNSAFE = /[\0-\x1f\x7f{}"'`\\;$%\s]/;

function assertSafe(ctx: object): void {
  for (const [key, value] of Object.entries(ctx)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === null) continue;
      if (typeof v !== 'string' || v.length === 0 || UNSAFE.test(v))
        throw new TemplateError(`template value ${key}=${JSON.stringify(v)} is not allowed in a unit file`);
    }
  }
}

/**
 * The replica unit's layout, written in it (`# pocketd-replica-layout: N`): the daemon installs again, when it
 * starts, every replica whose unit an older pocketd wrote. 2: the replica runs in the app's group, which may
 * write pb_data (0770), so Litestream can make the -wal and -shm files of an app at rest.
 */
export const REPLICA_LAYOUT = 2;

/** Renders the replica unit and its sandbox from the templates in `dir` (root's copy in the helper). */
export function createReplicaTemplates(dir: string) {
  const hb = Handlebars.create();
  const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
  hb.registerPartial('replica_sandbox', read('replica-sandbox.service.hbs'));
  const unit = hb.compile(read('replica.service.hbs'), { noEscape: true, strict: false });
  const sandbox = hb.compile(read('replica-sandbox.service.hbs'), { noEscape: true, strict: false });
  return {
    renderReplicaUnit(ctx: ReplicaContext): string {
      assertSafe(ctx);
      return unit({ ...ctx, layout: REPLICA_LAYOUT });
    },
    /** The sandbox as `Key=Value` properties for systemd-run -p. */
    replicaSandboxProperties(ctx: ReplicaContext): string[] {
      assertSafe(ctx);
      return sandbox(ctx)
        .split('\n')
        .filter((l) => /^[A-Za-z]+=/.test(l));
    },
  };
}
