import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { appNameSchema } from '../../core/apps/rules.js';
import type { HealthChecker } from '../../core/observe/health.js';
import { authorize, type ApiEnv } from '../context.js';
import { commonErrors, errors, json } from '../../contract/common.js';
import { AppHealth } from '../../contract/health.js';

const healthRoute = createRoute({
  method: 'get',
  path: '/api/apps/{name}/health',
  tags: ['observe'],
  summary: 'Current health state and the history of checks, newest first',
  request: {
    params: z.object({ name: appNameSchema }),
    query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict(),
  },
  responses: {
    200: json(AppHealth, 'Health'),
    ...commonErrors,
    ...errors(404),
  },
});

export function registerAppHealthRoutes(app: OpenAPIHono<ApiEnv>, deps: { health: HealthChecker }) {
  app.openapi(healthRoute, async (c) => {
    const { name } = c.req.valid('param');
    authorize(c, { kind: 'app', app: name, level: 'read' });
    return c.json(await deps.health.status(name, c.req.valid('query').limit), 200);
  });
}
