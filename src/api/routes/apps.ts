import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Apps } from '../../core/apps.js';
import type { AppOps } from '../../core/app-ops.js';
import type { CertificateFacts } from '../../core/certificates.js';
import { createAppSchema, patchAppSchema, superuserSchema } from '../../core/app-model.js';
import { appNameSchema, domainSchema } from '../../core/app-rules.js';
import { actorName, authorize, type ApiEnv } from '../context.js';
import { QueuedSchema, commonErrors, errors, json, jsonBody } from '../schemas.js';

const Runtime = z
  .object({
    active_state: z.string(),
    sub_state: z.string(),
    main_pid: z.number().int().nullable(),
    memory_bytes: z.number().nullable(),
    cpu_ns: z.number().nullable(),
    restarts: z.number().int(),
    active_since: z.string().nullable(),
    control_group: z.string().nullable(),
  })
  .openapi('Runtime');
const STATES = ['running', 'starting', 'stopping', 'stopped', 'failed', 'creating', 'deleting', 'unknown'] as const;
const AppView = z
  .object({
    name: z.string(),
    port: z.number().int(),
    version: z.string(),
    domains: z.array(z.string()),
    memory_max: z.string().nullable(),
    cpu_quota: z.number().int().nullable(),
    status: z.enum(['creating', 'ready', 'failed', 'deleting']),
    bundle: z.number().int().nullable(),
    backup_schedule: z.string().nullable(),
    backup_keep: z.number().int(),
    desired_state: z.enum(['running', 'stopped']),
    state: z.enum(STATES),
    runtime: Runtime.nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('App');
const FileMatch = z.object({ expected: z.string().nullable(), installed: z.string().nullable(), match: z.boolean() });
const AppDetail = AppView.extend({
  env: z
    .record(z.string(), z.string())
    .describe('Values of secret-looking keys are masked; for an app-scoped token every value is'),
  site_present: z.boolean(),
  config_match: z.object({
    match: z.boolean(),
    unit: FileMatch,
    site: FileMatch,
    routes: z
      .object({ match: z.boolean(), expected: z.array(z.string()), live: z.array(z.string()) })
      .describe("Caddy's live routes for the app's domains (domain -> upstream) against what pocketd installed"),
  }),
  certificates: z
    .array(
      z.object({
        domain: z.string(),
        checked_at: z.string(),
        issuer: z.string().optional(),
        subject: z.string().optional(),
        valid_from: z.string().optional(),
        valid_until: z.string().optional(),
        fingerprint256: z.string().optional(),
        days_left: z.number().int().nullable(),
        error: z.string().nullable().describe("The handshake's failure, or Caddy's last error for the domain"),
      }),
    )
    .describe('What Caddy serves for each domain, from a TLS handshake (empty with caddy_http_only)'),
}).openapi('AppDetail');
const Accepted = z
  .object({ deployment_id: z.number().int(), name: z.string(), port: z.number().int(), pocketbase_version: z.string() })
  .openapi('CreateAccepted');
const DeploymentRef = z.object({ deployment_id: z.number().int() });

const NameParam = z.object({ name: appNameSchema });
const ListQuery = z
  .object({
    status: z.enum(STATES).optional(),
    domain: domainSchema.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();
const DeleteQuery = z.object({ purge: z.enum(['true', 'false', '1', '0']).optional() }).strict();

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
) {
  const detail = async (name: string, opts?: { maskAll: boolean }) => {
    const view = await apps.get(name, opts);
    return { ...view, certificates: certificatesOf(view) };
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
