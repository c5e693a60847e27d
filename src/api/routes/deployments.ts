import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Deployments } from '../../core/deployments/engine.js';
import { appNameSchema } from '../../core/apps/rules.js';
import { notFound } from '../../shared/errors.js';
import { actorName, authorize, type ApiContext, type ApiEnv } from '../context.js';
import { commonErrors, errors, json } from '../../contract/common.js';
import { STATUSES, Summary, Deployment } from '../../contract/deployments.js';
import type { AppLevel } from '../../contract/scopes.js';

const getRoute = createRoute({
  method: 'get',
  path: '/api/deployments/{id}',
  tags: ['deployments'],
  summary: 'A deployment with its steps',
  request: { params: z.object({ id: z.coerce.number().int().positive() }) },
  responses: { 200: json(Deployment, 'The deployment'), ...commonErrors, ...errors(404) },
});
const listRoute = createRoute({
  method: 'get',
  path: '/api/deployments',
  tags: ['deployments'],
  summary: 'Deployments, newest first',
  request: {
    query: z
      .object({
        app: appNameSchema.optional(),
        status: z.enum(STATUSES).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
        before: z.coerce.number().int().positive().optional(),
      })
      .strict(),
  },
  responses: { 200: json(z.object({ deployments: z.array(Summary) }), 'Deployments'), ...commonErrors },
});

const cancelRoute = createRoute({
  method: 'post',
  path: '/api/deployments/{id}/cancel',
  tags: ['deployments'],
  summary: 'Cancel a pending or running deployment; a running one stops at its next safe point and rolls back',
  request: { params: z.object({ id: z.coerce.number().int().positive() }) },
  responses: { 202: json(Summary, 'Cancel requested; follow the deployment'), ...commonErrors, ...errors(404, 409) },
});
const AppStats = z
  .object({
    app: z.string(),
    count: z.number().int(),
    success: z.number().int(),
    success_rate: z.number(),
    by_status: z.record(z.string(), z.number().int()),
    mean_ms: z.number().int().nullable(),
    p95_ms: z.number().int().nullable(),
  })
  .openapi('DeploymentStats');
const statsRoute = createRoute({
  method: 'get',
  path: '/api/deployments/stats',
  tags: ['deployments'],
  summary: 'Per app: count, success rate, mean and p95 duration of ended deployments',
  request: { query: z.object({ days: z.coerce.number().int().min(1).max(3650).default(30) }).strict() },
  responses: { 200: json(z.object({ days: z.number().int(), apps: z.array(AppStats) }), 'Stats'), ...commonErrors },
});

export function registerDeploymentRoutes(app: OpenAPIHono<ApiEnv>, deployments: Deployments) {
  app.openapi(statsRoute, async (c) => {
    authorize(c, { kind: 'admin' });
    const { days } = c.req.valid('query');
    return c.json({ days, apps: await deployments.stats(days) }, 200);
  });
  /** A deployment, for a caller allowed its app; an app's token never reaches a deleted app's of the same name. */
  async function visible(c: ApiContext, id: number, level: (kind: string) => AppLevel) {
    const d = await deployments.get(id);
    const p = authorize(c, { kind: 'app', app: d.app, level: level(d.kind) });
    if (p.scope !== 'admin' && !(await deployments.ofPresentApp(d))) throw notFound('deployment', String(id));
    return { d, p };
  }
  app.openapi(cancelRoute, async (c) => {
    const { d, p } = await visible(c, c.req.valid('param').id, (kind) => (kind === 'deploy' ? 'deploy' : 'manage'));
    return c.json(await deployments.cancel(d.id, actorName(p)), 202);
  });
  app.openapi(getRoute, async (c) => {
    const { d } = await visible(c, c.req.valid('param').id, () => 'read');
    return c.json(d, 200);
  });
  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query');
    if (q.app) authorize(c, { kind: 'app', app: q.app, level: 'read' });
    else authorize(c, { kind: 'admin' });
    return c.json({ deployments: await deployments.list(q) }, 200);
  });
}
