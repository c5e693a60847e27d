import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Apps } from '../../core/apps/apps.js';
import { createAppSchema } from '../../core/apps/model.js';
import type { SystemChecks } from '../../core/observe/system.js';
import type { ReleaseSource } from '../../host/releases.js';
import { authorize, type ApiEnv } from '../context.js';
import { commonErrors, errors, json, jsonBody } from '../../contract/common.js';
import { zodFields } from '../errors.js';
import { Validation, Checks, Release, Info } from '../../contract/system.js';

const validateApp = createRoute({
  method: 'post',
  path: '/api/validate/app',
  tags: ['system'],
  summary: 'Dry run of a create: errors, warnings and checks; nothing is written',
  request: jsonBody(createAppSchema),
  responses: { 200: json(Validation, 'The report'), ...commonErrors },
});
const validateSystem = createRoute({
  method: 'get',
  path: '/api/validate/system',
  tags: ['system'],
  summary: 'Whether this host can run apps',
  responses: { 200: json(Checks, 'Every check'), ...commonErrors },
});
const systemHealth = createRoute({
  method: 'get',
  path: '/api/system/health',
  tags: ['system'],
  summary: 'The same checks; 503 when one fails',
  responses: { 200: json(Checks, 'Healthy'), 503: json(Checks, 'A check failed'), ...commonErrors },
});
const systemInfo = createRoute({
  method: 'get',
  path: '/api/system/info',
  tags: ['system'],
  summary: 'Version, uptime, paths and ranges',
  responses: { 200: json(Info, 'Info'), ...commonErrors },
});
const releases = createRoute({
  method: 'get',
  path: '/api/releases',
  tags: ['releases'],
  summary: 'PocketBase releases at the source, newest first',
  responses: { 200: json(z.object({ releases: z.array(Release) }), 'Releases'), ...commonErrors, ...errors(502) },
});

export function registerSystemRoutes(
  app: OpenAPIHono<ApiEnv>,
  deps: { apps: Apps; system: SystemChecks; releases: ReleaseSource },
) {
  app.openapi(
    validateApp,
    async (c) => {
      authorize(c, { kind: 'admin' });
      return c.json(await deps.apps.validateCreate(c.req.valid('json')), 200);
    },
    (result, c) => {
      // As-you-type validation: field errors come back in the report, not as a 422.
      if (result.success) return undefined;
      authorize(c, { kind: 'admin' });
      const errs = zodFields(result.error.issues);
      const bad = (prefix: string) => errs.some((e) => e.field === prefix || e.field.startsWith(`${prefix}.`));
      return c.json(
        {
          valid: false,
          errors: errs,
          warnings: [],
          checks: {
            name_available: !bad('name'),
            port_available: !bad('port'),
            domains_valid: !bad('domains'),
            domains_available: !bad('domains'),
            version_exists: !bad('pocketbase_version'),
          },
          resolved: { port: null, pocketbase_version: null },
        },
        200,
      );
    },
  );
  app.openapi(validateSystem, async (c) => {
    authorize(c, { kind: 'admin' });
    return c.json(await deps.system.run(), 200);
  });
  app.openapi(systemHealth, async (c) => {
    authorize(c, { kind: 'admin' });
    const r = await deps.system.run();
    return r.ok ? c.json(r, 200) : c.json(r, 503);
  });
  app.openapi(systemInfo, (c) => {
    authorize(c, { kind: 'admin' });
    return c.json(deps.system.info(), 200);
  });
  app.openapi(releases, async (c) => {
    authorize(c, { kind: 'admin' });
    return c.json({ releases: await deps.releases.list() }, 200);
  });
}
