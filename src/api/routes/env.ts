import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Apps } from '../../core/apps/apps.js';
import type { AppOps } from '../../core/apps/ops.js';
import { envSchema } from '../../core/apps/rules.js';
import { actorName, authorize, type ApiEnv } from '../context.js';
import { QueuedSchema, commonErrors, errors, json, jsonBody } from '../../contract/common.js';
import { NameParam, Env } from '../../contract/env.js';

const getEnv = createRoute({
  method: 'get',
  path: '/api/apps/{name}/env',
  tags: ['apps'],
  summary: "The app's environment, secrets masked",
  request: { params: NameParam },
  responses: { 200: json(Env, 'Environment'), ...commonErrors, ...errors(404) },
});
const putEnv = createRoute({
  method: 'put',
  path: '/api/apps/{name}/env',
  tags: ['apps'],
  summary: 'Replace the environment; a masked value keeps the stored one; restart=1 restarts',
  request: {
    params: NameParam,
    query: z.object({ restart: z.enum(['0', '1', 'true', 'false']).optional() }).strict(),
    ...jsonBody(z.object({ env: envSchema }).strict().openapi('PutEnv')),
  },
  responses: {
    200: json(
      Env.extend({ changed: z.boolean(), restart_required: z.boolean(), restarted: z.boolean() }).openapi('EnvSaved'),
      'Saved',
    ),
    202: json(QueuedSchema, 'Queued behind other operations of the app'),
    ...commonErrors,
    ...errors(404, 429, 502),
  },
});

export function registerEnvRoutes(app: OpenAPIHono<ApiEnv>, deps: { apps: Apps; ops: AppOps }) {
  app.openapi(getEnv, async (c) => {
    const { name } = c.req.valid('param');
    authorize(c, { kind: 'app', app: name, level: 'manage' });
    return c.json(await deps.apps.getEnv(name), 200);
  });
  app.openapi(putEnv, async (c) => {
    const { name } = c.req.valid('param');
    const p = authorize(c, { kind: 'app', app: name, level: 'manage' });
    const restart = ['1', 'true'].includes(c.req.valid('query').restart ?? '0');
    const r = await deps.ops.putEnv(name, c.req.valid('json').env, restart, actorName(p));
    if ('queued' in r) return c.json(r.queued, 202);
    return c.json(r.done, 200);
  });
}
