import { z } from 'zod';
import { appNameSchema, domainSchema, portSchema, uniqueList } from './rules.js';

/**
 * An app's off-host replica target (issue #27), as the API takes it and as the
 * root helper takes it on stdin: the same schemas on both sides. Every field
 * ends up in Litestream's config (rendered by the helper as JSON, which YAML
 * reads as it is) or in the name of an object, so each is a narrow pattern:
 * refused, never escaped. No field may hold `$` (Litestream expands variables
 * in its config unless told not to, and pocketd tells it not to as well).
 */

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const hostSchema = z
  .string()
  .max(253)
  .refine((h) => IPV4.test(h) || domainSchema.safeParse(h).success, 'must be a host name or an IPv4 address');

/** A key prefix inside the bucket (or a directory on the SFTP server): plain names joined by `/`. */
const prefixSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'must be plain names (letters, digits, . _ -) joined by /')
  .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), 'must not contain . or .. segments');

export const s3TargetSchema = z
  .object({
    type: z.literal('s3'),
    /** http(s)://host[:port], nothing after it: the S3-compatible service (AWS, MinIO, versitygw, ...). */
    endpoint: z
      .string()
      .max(300)
      .regex(/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/, 'must be http(s)://host[:port] with nothing after it'),
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 lower-case letters, digits, . -)'),
    path: prefixSchema,
    region: z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/)
      .default('us-east-1'),
    access_key_id: z.string().regex(/^[A-Za-z0-9._-]{3,128}$/, 'must be 3-128 letters, digits, . _ -'),
    secret_access_key: z.string().regex(/^[A-Za-z0-9/+=._-]{8,128}$/, 'must be 8-128 letters, digits, / + = . _ -'),
  })
  .strict();

const PRIVATE_KEY =
  /^-----BEGIN OPENSSH PRIVATE KEY-----\n([A-Za-z0-9+/=]{1,100}\n){1,100}-----END OPENSSH PRIVATE KEY-----\n?$/;

export const sftpTargetSchema = z
  .object({
    type: z.literal('sftp'),
    host: hostSchema,
    port: z.number().int().min(1).max(65535).default(22),
    user: z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/, 'must be a user name'),
    /** An absolute directory on the server. */
    path: z
      .string()
      .max(200)
      .regex(/^(\/[A-Za-z0-9._-]+)+$/, 'must be an absolute path of plain names')
      .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), 'must not contain . or ..'),
    /** An OpenSSH private key without a passphrase (ssh-keygen -t ed25519 -N ''). */
    private_key: z.string().max(12_000).regex(PRIVATE_KEY, 'must be an unencrypted OpenSSH private key (PEM text)'),
  })
  .strict();

export const replicaTargetSchema = z.discriminatedUnion('type', [s3TargetSchema, sftpTargetSchema]);
export type ReplicaTarget = z.infer<typeof replicaTargetSchema>;

/** The fields of a target that are secret: kept by the daemon and root, answered to nobody. */
export const SECRET_FIELDS = ['secret_access_key', 'private_key'] as const;

/** What may be said about a target: everything but its secrets. */
export function redactTarget(t: ReplicaTarget): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(t)) {
    if ((SECRET_FIELDS as readonly string[]).includes(k)) out[`has_${k}`] = true;
    else out[k] = v;
  }
  return out;
}

/** An app's identity (its app_id): replicas belong to it, not to the name. */
export const appIdSchema = z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 hex digits');

/** replica-install: where to replicate the app and how often. */
export const replicaSpecSchema = z
  .object({
    app_id: appIdSchema,
    target: replicaTargetSchema,
    /** Litestream's sync interval in seconds: how much a dead host may lose at most. */
    sync_seconds: z.number().int().min(1).max(3600).default(1),
    /** How long point-in-time restore reaches back (Litestream's retention), in hours. */
    retention_hours: z.number().int().min(1).max(8760).default(72),
    /** A new full snapshot this often, in hours: a restore replays at most this much WAL. */
    snapshot_hours: z.number().int().min(1).max(168).default(6),
  })
  .strict();
export type ReplicaSpec = z.infer<typeof replicaSpecSchema>;

/** replica-check: a target to try before it is saved (the app need not exist yet). */
export const replicaCheckSpecSchema = z.object({ target: replicaTargetSchema }).strict();

/** An instant in UTC, as Litestream's restore -timestamp takes it. */
export const timestampSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/, 'must be an instant in UTC like 2026-11-30T01:02:03Z')
  .refine((t) => !Number.isNaN(Date.parse(t)), 'must be a real instant');

/** replica-restore: the app's data from its replica at `timestamp` (null: the latest). */
export const replicaRestoreSpecSchema = z
  .object({
    spec: replicaSpecSchema,
    /** The app whose replica it is (another app's for a clone); the replica lives under its name and app_id. */
    source: z.string().regex(/^[a-z][a-z0-9-]{1,30}[a-z0-9]$/, 'must be an app name'),
    timestamp: timestampSchema.nullable(),
  })
  .strict();
export type ReplicaRestoreSpec = z.infer<typeof replicaRestoreSpecSchema>;

/** The databases of pb_data that Litestream replicates (logs.db is 0.22's auxiliary.db). */
export const REPLICATED_DBS = ['data.db', 'auxiliary.db', 'logs.db'] as const;

export { portSchema };

/** The most apps one replica-statuses call answers (the daemon asks in slices of this). */
export const REPLICA_STATUSES_MAX = 200;

/** replica-statuses: what each target holds of these apps' data.db, in one helper call (the status watch's round). */
export const replicaStatusesSpecSchema = z
  .object({ names: uniqueList(appNameSchema, REPLICA_STATUSES_MAX).min(1) })
  .strict();
export type ReplicaStatusesSpec = z.infer<typeof replicaStatusesSpecSchema>;

/** One app's answer of replica-statuses: Litestream's generations table, or why not, and its unit's last logged error. */
export interface ReplicaStatusReport {
  name: string;
  generations: string | null;
  error: string | null;
  /** The last error the app's replica unit logged in the last few minutes (Litestream goes on after one). */
  logged_error: string | null;
}
