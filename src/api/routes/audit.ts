import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Database } from '../../db/database.js';
import { authorize, type ApiEnv } from '../context.js';
import { commonErrors, json } from '../schemas.js';

const AuditEntry = z.object({
  id: z.number().int(), at: z.string(), actor: z.string(), method: z.string(), route: z.string(),
  target: z.string().nullable(), status: z.number().int(), request_id: z.string(),
}).openapi('AuditEntry');

const Query = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().positive().optional().describe('Only entries with a smaller id (paging)'),
}).strict();

const list = createRoute({
  method: 'get', path: '/api/audit', tags: ['audit'], summary: 'Every request that changed something, newest first',
  request: { query: Query },
  responses: { 200: json(z.object({ entries: z.array(AuditEntry) }), 'Entries'), ...commonErrors },
});

export function registerAuditRoutes(app: OpenAPIHono<ApiEnv>, db: Database) {
  app.openapi(list, async (c) => {
    authorize(c, { kind: 'admin' });
    const { limit, before } = c.req.valid('query');
    let q = db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(limit);
    if (before !== undefined) q = q.where('id', '<', before);
    return c.json({ entries: await q.execute() }, 200);
  });
}
