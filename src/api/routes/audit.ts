import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Audit } from '../../core/auth/audit.js';
import { authorize, type ApiEnv } from '../context.js';
import { commonErrors, json } from '../../contract/common.js';
import { AuditEntry, Query } from '../../contract/audit.js';

const list = createRoute({
  method: 'get',
  path: '/api/audit',
  tags: ['audit'],
  summary: 'Every request that changed something, newest first',
  request: { query: Query },
  responses: { 200: json(z.object({ entries: z.array(AuditEntry) }), 'Entries'), ...commonErrors },
});

export function registerAuditRoutes(app: OpenAPIHono<ApiEnv>, audit: Audit) {
  app.openapi(list, async (c) => {
    authorize(c, { kind: 'admin' });
    return c.json({ entries: await audit.list(c.req.valid('query')) }, 200);
  });
}
