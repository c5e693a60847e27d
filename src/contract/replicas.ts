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
