import { z } from 'zod';
import { cpuQuotaSchema, domainSchema, envSchema, memoryMaxSchema, versionSchema } from './rules.js';
import { appIdSchema, replicaSpecSchema, replicaTargetSchema, type ReplicaTarget } from './replica-rules.js';
import { replicaRoot } from './replica-config.js';

/**
 * What an app's replica holds beside its databases (issue #27): the app's
 * files that are not in SQLite, as one age-encrypted tar per change under
 * `<root>/files/<instant>.tar.age` (never overwritten: a new name each time),
 * and its configuration as `<root>/manifest.json.age`. Uploaded and read by
 * rclone (Debian's package) from the replica's sandbox; encrypted with the
 * host's age key there (age, Debian's package). Shared by daemon and helper.
 */

/** The app's directories replicated as files: uploads (pb_data/storage) and the bundle in place. */
export const FILE_DIRS = ['pb_data/storage', 'pb_hooks', 'pb_migrations', 'pb_public'] as const;

export const FILES_PREFIX = 'files';
export const MANIFEST_OBJECT = 'manifest.json.age';

/** An object name of a files tar: the instant it was made, sortable as text (2026-11-30T04-20-01Z). */
export const filesObjectRe = /^(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z)\.tar\.age$/;
export const filesObjectAt = (d: Date) => `${d.toISOString().slice(0, 19).replace(/:/g, '-')}Z.tar.age`;

const appNameSchema = z.string().regex(/^[a-z][a-z0-9-]{1,30}[a-z0-9]$/, 'must be an app name');

/** An app's configuration as its replica keeps it (whole, age-encrypted: env values included). */
export const manifestSchema = z
  .object({
    format: z.literal(1),
    name: appNameSchema,
    app_id: appIdSchema,
    domains: z.array(domainSchema).max(50),
    version: versionSchema,
    memory_max: memoryMaxSchema.nullable(),
    cpu_quota: cpuQuotaSchema.nullable(),
    env: envSchema,
    health_path: z.string().max(200).nullable(),
    sleep_after: z.number().int().min(1).nullable(),
    backup_schedule: z.string().max(100).nullable(),
    bundle: z.number().int().nullable(),
    // Added after the first manifests (optional: a manifest written before them still reads).
    backup_keep: z.number().int().min(1).max(1000).optional(),
    replica: z
      .object({ sync_seconds: z.number().int().min(1).max(3600), retention_hours: z.number().int().min(1).max(8760) })
      .strict()
      .optional(),
  })
  .strict();
export type Manifest = z.infer<typeof manifestSchema>;

/** replica-files: push the app's files and manifest when either changed since `last` (a signature). */
export const replicaFilesSpecSchema = z
  .object({
    spec: replicaSpecSchema,
    manifest: manifestSchema,
    last: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .nullable(),
  })
  .strict();
export type ReplicaFilesSpec = z.infer<typeof replicaFilesSpecSchema>;

/** replica-list: what a target holds (for recovering a host): every app with its manifest. */
export const replicaListSpecSchema = z.object({ target: replicaTargetSchema }).strict();

/** replica-files-restore: the files of `source`.`app_id` from `target` into an app (stopped). */
export const replicaFilesRestoreSpecSchema = z
  .object({
    target: replicaTargetSchema,
    source: appNameSchema,
    app_id: appIdSchema,
  })
  .strict();
export type ReplicaFilesRestoreSpec = z.infer<typeof replicaFilesRestoreSpecSchema>;

/** One app the target holds, as the helper answers replica-list. */
export interface ListedApp {
  dir: string;
  manifest: Manifest | null;
  files: string | null;
  error: string | null;
}

/** rclone's name of a place inside the target: `target:<bucket>/<path>` (S3) or `target:/<path>` (SFTP). */
export function remoteOf(target: ReplicaTarget, sub = ''): string {
  const base = target.type === 's3' ? `${target.bucket}/${target.path}` : target.path;
  return `target:${base}${sub ? `/${sub}` : ''}`;
}

/** The place of one app's replica (`<path>/<name>.<app_id>`) as rclone names it. */
export function appRemote(target: ReplicaTarget, source: string, appId: string, sub = ''): string {
  const root = replicaRoot(target, source, appId);
  const base = target.type === 's3' ? `${target.bucket}/${root}` : root;
  return `target:${base}${sub ? `/${sub}` : ''}`;
}

/**
 * rclone's config for a target (INI). Every value passed the target's narrow
 * patterns (no newline, no `$`), so none can add a line or a key. The SFTP key
 * is a file (`keyFile`) or, when null, given inline as key_pem.
 */
export function renderRcloneConfig(target: ReplicaTarget, keyFile: string | null): string {
  const lines = ['[target]'];
  if (target.type === 's3')
    lines.push(
      'type = s3',
      'provider = Other',
      `endpoint = ${target.endpoint}`,
      `region = ${target.region}`,
      `access_key_id = ${target.access_key_id}`,
      `secret_access_key = ${target.secret_access_key}`,
      'force_path_style = true',
      // The bucket exists (the target was tried); its credentials need not be able to make one.
      'no_check_bucket = true',
    );
  else {
    lines.push('type = sftp', `host = ${target.host}`, `port = ${target.port}`, `user = ${target.user}`);
    if (keyFile) lines.push(`key_file = ${keyFile}`);
    else lines.push(`key_pem = ${target.private_key.trim().split('\n').join('\\n')}`);
    // Plain SFTP only: no shell commands (md5sum, df) on the server.
    lines.push('shell_type = none', 'disable_hashcheck = true');
  }
  return `${lines.join('\n')}\n`;
}
