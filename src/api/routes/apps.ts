import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Apps } from '../../core/apps/apps.js';
import type { AppOps } from '../../core/apps/ops.js';
import type { CertificateFacts } from '../../core/observe/certificates.js';
import { createAppSchema, patchAppSchema, superuserSchema } from '../../core/apps/model.js';
import { actorName, authorize, type ApiEnv } from '../context.js';
import { QueuedSchema, commonErrors, errors, json, jsonBody } from '../../contract/common.js';
import { AppView, AppDetail, Accepted, DeploymentRef, NameParam, ListQuery, DeleteQuery } from '../../contract/apps.js';

const createApp = createRoute({
  method: 'post',
  path: '/api/apps',
  tags: ['apps'],
  summary: 'Create an app; a deployment you can follow',
  request: jsonBody(createAppSchema.openapi('CreateApp')),
  responses: { 202: json(Accepted, 'Creation started'), ...commonErrors, ...errors(409, 502) },
});
const listApps = createRoute({
  method: 'get',
  path: '/api/apps',
  tags: ['apps'],
  summary: 'Apps with live state',
  request: { query: ListQuery },
  responses: { 200: json(z.object({ apps: z.array(AppView), total: z.number().int() }), 'Apps'), ...commonErrors },
});
const getApp = createRoute({
  method: 'get',
  path: '/api/apps/{name}',
  tags: ['apps'],
  summary: 'One app: settings, runtime, drift',
  request: { params: NameParam },
  responses: { 200: json(AppDetail, 'The app'), ...commonErrors, ...errors(404) },
});
const patchApp = createRoute({
  method: 'patch',
  path: '/api/apps/{name}',
  tags: ['apps'],
  summary: 'Change domains, env or limits; restarts only if needed',
  request: { params: NameParam, ...jsonBody(patchAppSchema.openapi('PatchApp')) },
  responses: {
    200: json(z.object({ deployment_id: z.number().int(), status: z.string(), app: AppDetail }), 'Applied'),
    202: json(QueuedSchema, 'Queued behind other operations of the app'),
    ...commonErrors,
    ...errors(404, 429, 502),
  },
});
const controlRoute = (action: 'start' | 'stop' | 'restart') =>
  createRoute({
    method: 'post',
    path: `/api/apps/{name}/${action}`,
    tags: ['apps'],
    summary: `${action} the app and wait for the new state`,
    request: { params: NameParam },
    responses: {
      200: json(AppDetail, 'The app in its new state'),
      202: json(QueuedSchema, 'Queued behind other operations of the app'),
      ...commonErrors,
      ...errors(404, 429, 502),
    },
  });
const repairApp = createRoute({
  method: 'post',
  path: '/api/apps/{name}/repair',
  tags: ['apps'],
  summary: "Put pocketd's unit, site and env back after hand edits; start the app if it should run",
  request: { params: NameParam },
  responses: {
    200: json(z.object({ deployment_id: z.number().int(), status: z.string(), app: AppDetail }), 'Repaired'),
    202: json(QueuedSchema, 'Queued behind other operations of the app'),
    ...commonErrors,
    ...errors(404, 429),
  },
});
const setSuperuser = createRoute({
  method: 'put',
  path: '/api/apps/{name}/superuser',
  tags: ['apps'],
  summary: "Create the app's PocketBase superuser, or set a new password for it (the app must run)",
  // A new object (made after zod-openapi is loaded) so it takes .openapi; the rule itself lives in rules.ts.
  request: { params: NameParam, ...jsonBody(superuserSchema.extend({}).openapi('Superuser')) },
  responses: {
    200: json(DeploymentRef.extend({ status: z.string(), email: z.string() }), 'Set'),
    202: json(QueuedSchema, 'Queued behind other operations of the app'),
    ...commonErrors,
    ...errors(404, 429, 502),
  },
});
const deleteApp = createRoute({
  method: 'delete',
  path: '/api/apps/{name}',
  tags: ['apps'],
  summary: 'Delete the app; its data is archived unless purge=true',
  request: { params: NameParam, query: DeleteQuery },
  responses: {
    200: json(DeploymentRef.extend({ status: z.string(), error: z.string().nullable() }), 'Deleted'),
    202: json(QueuedSchema, 'Queued behind the operation that runs now; what waited was cancelled'),
    ...commonErrors,
    ...errors(404, 429),
  },
});

export function registerAppRoutes(
  app: OpenAPIHono<ApiEnv>,
  apps: Apps,
  ops: AppOps,
  certificatesOf: (app: { name: string; domains: string[] }) => CertificateFacts[] = () => [],
  adminUrlOf: (app: { name: string; domains: string[] }) => string | null = () => null,
) {
  const detail = async (name: string, opts?: { maskAll: boolean }) => {
    const view = await apps.get(name, opts);
    return { ...view, certificates: certificatesOf(view), admin_url: adminUrlOf(view) };
  };
  app.openapi(createApp, async (c) => {
    const p = authorize(c, { kind: 'admin' });
    const body = c.req.valid('json');
    c.set('auditTarget', body.name);
    return c.json(await apps.create(body, actorName(p)), 202);
  });
  app.openapi(listApps, async (c) => {
    authorize(c, { kind: 'admin' });
    return c.json(await apps.list(c.req.valid('query')), 200);
  });
  app.openapi(getApp, async (c) => {
    const { name } = c.req.valid('param');
    const p = authorize(c, { kind: 'app', app: name, level: 'read' });
    // Env values reach admins only: for an app-scoped token every value is masked, whatever its key.
    return c.json(await detail(name, { maskAll: p.scope !== 'admin' }), 200);
  });
  app.openapi(patchApp, async (c) => {
    const { name } = c.req.valid('param');
    const p = authorize(c, { kind: 'app', app: name, level: 'manage' });
    const r = await ops.configure(name, c.req.valid('json'), actorName(p));
    if ('queued' in r) return c.json(r.queued, 202);
    return c.json({ ...r.done, app: await detail(name) }, 200);
  });
  for (const action of ['start', 'stop', 'restart'] as const) {
    app.openapi(controlRoute(action), async (c) => {
      const { name } = c.req.valid('param');
      const p = authorize(c, { kind: 'app', app: name, level: 'manage' });
      const r = await ops.control(name, action, actorName(p));
      if ('queued' in r) return c.json(r.queued, 202);
      return c.json(await detail(name), 200);
    });
  }
  app.openapi(repairApp, async (c) => {
    const p = authorize(c, { kind: 'admin' });
    const { name } = c.req.valid('param');
    const r = await ops.repair(name, actorName(p));
    if ('queued' in r) return c.json(r.queued, 202);
    return c.json({ ...r.done, app: await detail(name) }, 200);
  });
  app.openapi(setSuperuser, async (c) => {
    const { name } = c.req.valid('param');
    const p = authorize(c, { kind: 'app', app: name, level: 'manage' });
    const r = await ops.setSuperuser(name, c.req.valid('json'), actorName(p));
    if ('queued' in r) return c.json(r.queued, 202);
    return c.json(r.done, 200);
  });
  app.openapi(deleteApp, async (c) => {
    const p = authorize(c, { kind: 'admin' });
    const { name } = c.req.valid('param');
    const purge = ['true', '1'].includes(c.req.valid('query').purge ?? 'false');
    const r = await ops.remove(name, purge, actorName(p));
    if ('queued' in r) return c.json(r.queued, 202);
    return c.json(r.done, 200);
  });
}
