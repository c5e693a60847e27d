import { z } from '@hono/zod-openapi';
import { APP_NAME_PATTERN } from '../shared/rules.js';

/** What an audit row may name as its target: an app's name or an id. */
const isAuditTarget = (s: string): boolean => APP_NAME_PATTERN.test(s) || /^[1-9]\d{0,15}$/.test(s);

export const AuditEntry = z
  .object({
    id: z.number().int(),
    at: z.string(),
    actor: z.string(),
    method: z.string(),
    route: z.string(),
    target: z.string().nullable(),
    status: z.number().int(),
    request_id: z.string(),
    fields: z.string().nullable().describe('What the request asked to change, as JSON, secrets masked'),
  })
  .openapi('AuditEntry');

export const Query = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: z.coerce.number().int().positive().optional().describe('Only entries with a smaller id (paging)'),
    actor: z.string().min(1).max(200).optional().describe('Only what this actor did (an email, or token:<name> ...)'),
    target: z
      .string()
      .refine(isAuditTarget, 'an app name or an id')
      .optional()
      .describe('Only requests about this app (or token id)'),
    route: z
      .string()
      .regex(/^\/api\/[A-Za-z0-9/{}_-]{0,200}$/, 'a route template such as /api/apps/{name}/upgrade')
      .optional()
      .describe('Only this route template'),
  })
  .strict();

export type AuditRow = z.infer<typeof AuditEntry>;
