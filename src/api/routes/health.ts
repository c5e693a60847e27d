import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from '../context.js';
import { json } from '../../contract/common.js';

const HealthSchema = z
  .object({
    status: z.literal('ok'),
    version: z.string(),
    uptime_seconds: z.number().int(),
  })
  .openapi('Liveness');

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
