import { z } from '@hono/zod-openapi';
import { appNameSchema, domainsSchema } from '../shared/rules.js';

/** A deleted app's archive as the API shows it: settings and env keys, never an env value. */
export const ArchiveInfo = z
  .object({
    id: z.number().int(),
    name: z.string().describe('The name the app had'),
    deleted_at: z.string(),
    size_bytes: z.number().int().nullable(),
    pocketbase_version: z.string(),
    domains: z.array(z.string()),
    memory_max: z.string().nullable(),
    cpu_quota: z.number().nullable(),
    health_path: z.string().nullable(),
    backup_schedule: z.string().nullable(),
    sleep_after: z.number().int().nullable().describe('What it had; a restored app comes back awake'),
    env_keys: z.array(z.string()).describe('The names of its env vars (the values are sealed, never answered)'),
  })
  .openapi('Archive');

export const ArchiveList = z
  .object({
    archives: z.array(ArchiveInfo),
    keep_days: z.number().int().describe('Archives older than this are deleted (archive_keep_days)'),
    max: z.number().int().describe('At most this many are kept, the oldest go first (archive_max)'),
  })
  .openapi('ArchiveList');

export const ArchiveIdParam = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

export const RestoreArchive = z
  .object({
    name: appNameSchema.optional().describe("The new app's name; the old one by default"),
    domains: domainsSchema
      .optional()
      .describe('Its domains; the old ones by default (a domain another app has is refused, as a create does)'),
  })
  .strict()
  .openapi('RestoreArchive');
