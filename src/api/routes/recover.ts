import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Recovery } from '../../core/replication/recover.js';
import { HeldApp, RecoverBody, RecoverListBody, RecoverResult } from '../../contract/replicas.js';
import { actorName, authorize, type ApiEnv } from '../context.js';
import { commonErrors, errors, json, jsonBody } from '../../contract/common.js';

/** Disaster recovery of a host from a replica target (issue #27): admin only; the restores are queued. */
const listRoute = createRoute({
  method: 'post',
  path: '/api/recover/list',
  tags: ['replica'],
  summary: 'What a target holds: every app with its configuration (env values never answered)',
  request: { ...jsonBody(RecoverListBody) },
  responses: { 200: json(z.array(HeldApp), 'The apps the target holds'), ...commonErrors, ...errors(502) },
});
const recoverRoute = createRoute({
  method: 'post',
  path: '/api/recover',
  tags: ['replica'],
  summary: 'Create the chosen apps from the target and restore their files and data (queued per app)',
  request: { ...jsonBody(RecoverBody) },
  responses: { 202: json(RecoverResult, 'Queued: a create and a recover per app'), ...commonErrors, ...errors(502) },
});

export function registerRecoverRoutes(app: OpenAPIHono<ApiEnv>, deps: { recovery: Recovery }) {
  app.openapi(listRoute, async (c) => {
    authorize(c, { kind: 'admin' });
    return c.json(await deps.recovery.list(c.req.valid('json').target), 200);
  });
  app.openapi(recoverRoute, async (c) => {
    const p = authorize(c, { kind: 'admin' });
    const body = c.req.valid('json');
    return c.json(await deps.recovery.recover(body.target, body.apps, actorName(p)), 202);
  });
}
