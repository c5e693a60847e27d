import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Database } from '../../db/database.js';
import { isAuditTarget } from '../middleware/audit-fields.js';
import { authorize, type ApiEnv } from '../context.js';
import { commonErrors, json } from '../../contract/common.js';

const AuditEntry = z
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

const Query = z
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

const list = createRoute({
  method: 'get',
  path: '/api/audit',
  tags: ['audit'],
  summary: 'Every request that changed something, newest first',
  request: { query: Query },
  responses: { 200: json(z.object({ entries: z.array(AuditEntry) }), 'Entries'), ...commonErrors },
});

export function registerAuditRoutes(app: OpenAPIHono<ApiEnv>, db: Database) {
  app.openapi(list, async (c) => {
    authorize(c, { kind: 'admin' });
    const { limit, before, actor, target, route } = c.req.valid('query');
    let q = db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(limit);
    if (before !== undefined) q = q.where('id', '<', before);
    if (actor !== undefined) q = q.where('actor', '=', actor);
    if (target !== undefined) q = q.where('target', '=', target);
    if (route !== undefined) q = q.where('route', '=', route);
    return c.json({ entries: await q.execute() }, 200);
  });
}
