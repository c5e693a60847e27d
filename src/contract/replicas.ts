import { z } from '@hono/zod-openapi';
import { appNameSchema, domainsSchema } from '../shared/rules.js';
import { replicaTargetSchema, timestampSchema } from '../shared/replica-rules.js';

/** The API's shapes for an app's off-host replica (issue #27): its target (secrets never answered), status, restore and clone. */
export const NameParam = z.object({ name: appNameSchema });
export const Replica = z
  .object({
    app: z.string(),
    app_id: z.string(),
    target: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .describe('The target without its secrets: has_secret_access_key / has_private_key say one is kept'),
    sync_seconds: z.number().int(),
    retention_hours: z.number().int(),
    unit: z.string(),
    status: z.object({
      checked_at: z.string().nullable(),
      generation: z.string().nullable(),
      generations: z.number().int().nullable(),
      last_sync_at: z.string().nullable().describe('The newest instant the target holds'),
      lag_seconds: z.number().nullable().describe("How far the target is behind the app's database"),
      error: z.string().nullable(),
    }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Replica');
export const PutReplica = z
  .object({
    target: replicaTargetSchema,
    sync_seconds: z.number().int().min(1).max(3600).optional(),
    retention_hours: z.number().int().min(1).max(8760).optional(),
  })
  .strict()
  .openapi('PutReplica');
export const RestoreBody = z
  .object({
    timestamp: timestampSchema.nullable().default(null).describe('UTC instant; null or absent: the latest'),
  })
  .strict()
  .openapi('ReplicaRestore');
export const CloneBody = z
  .object({
    name: appNameSchema.describe('The new app'),
    domains: domainsSchema.default([]),
    timestamp: timestampSchema.nullable().default(null),
  })
  .strict()
  .openapi('ReplicaClone');

export type Replica = z.infer<typeof Replica>;

/** Disaster recovery: a target to read (JSON like a replica's), and which of its apps to bring back. */
export const RecoverListBody = z.object({ target: replicaTargetSchema }).strict().openapi('RecoverList');
export const RecoverBody = z
  .object({
    target: replicaTargetSchema,
    apps: z.array(appNameSchema).max(500).nullable().default(null).describe('null or absent: every app it holds'),
  })
  .strict()
  .openapi('Recover');
export const HeldApp = z
  .object({
    dir: z.string().describe('<name>.<app_id> in the target'),
    name: z.string().nullable(),
    app_id: z.string().nullable(),
    domains: z.array(z.string()),
    version: z.string().nullable(),
    env_keys: z.array(z.string()).describe('Names only: values are never answered'),
    files: z.string().nullable().describe('The latest files object'),
    error: z.string().nullable(),
  })
  .openapi('HeldApp');
export const RecoverResult = z
  .object({
    queued: z.array(
      z.object({
        app: z.string(),
        create_deployment_id: z.number().int(),
        recover_deployment_id: z.number().int(),
        configure_deployment_id: z
          .number()
          .int()
          .nullable()
          .describe(
            'Puts back sleep_after, backup_schedule, backup_keep and health_path after the recover; null when none',
          ),
        settings_error: z.string().optional().describe('Settings of the manifest this host refused'),
      }),
    ),
    skipped: z.array(z.object({ dir: z.string(), reason: z.string() })),
  })
  .openapi('RecoverResult');
