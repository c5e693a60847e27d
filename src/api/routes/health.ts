import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from '../context.js';
import { json } from '../../contract/common.js';
import { HealthSchema } from '../../contract/liveness.js';

const route = createRoute({
  method: 'get',
  path: '/api/health',
  tags: ['system'],
  security: [],
  summary: 'Liveness of the daemon; public and free of secrets',
  responses: { 200: json(HealthSchema, 'The daemon is up') },
});

export function registerHealthRoutes(app: OpenAPIHono<ApiEnv>, info: { version: string; startedAt: number }) {
  app.openapi(route, (c) =>
    c.json(
      {
        status: 'ok' as const,
        version: info.version,
        uptime_seconds: Math.floor((Date.now() - info.startedAt) / 1000),
      },
      200,
    ),
  );
}
