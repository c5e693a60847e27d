import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Admins } from '../../core/auth/admins.js';
import { PocketdError } from '../../shared/errors.js';
import { authorize, type ApiEnv } from '../context.js';
import { commonErrors, errors, json, jsonBody } from '../../contract/common.js';
import { AdminIdParam, AdminInfo, AdminList, ChangePassword, CreateAdmin } from '../../contract/admins.js';

const list = createRoute({
  method: 'get',
  path: '/api/admins',
  tags: ['auth'],
  summary: 'The admins who may sign in to the dashboard',
  responses: { 200: json(AdminList, 'Admins'), ...commonErrors },
});
const create = createRoute({
  method: 'post',
  path: '/api/admins',
  tags: ['auth'],
  summary: 'Add an admin with a first password',
  request: jsonBody(CreateAdmin),
  responses: { 201: json(AdminInfo, 'Added'), ...commonErrors, ...errors(409) },
});
const remove = createRoute({
  method: 'delete',
  path: '/api/admins/{id}',
  tags: ['auth'],
  summary: 'Remove an admin (never the last one); its sessions and the tokens it made end',
  request: { params: AdminIdParam },
  responses: { 204: { description: 'Removed' }, ...commonErrors, ...errors(404, 409) },
});
const password = createRoute({
  method: 'post',
  path: '/api/auth/password',
  tags: ['auth'],
  summary: "Change the signed-in admin's own password; its other sessions end",
  request: jsonBody(ChangePassword),
  responses: { 204: { description: 'Changed' }, ...commonErrors, ...errors(429) },
});

/** The signed-in admin itself: a session (not an API token, which is no one's login). */
export function sessionAdmin(c: Context<ApiEnv>) {
  const p = authorize(c, { kind: 'admin' });
  if (p.kind !== 'session' || p.userId === null)
    throw new PocketdError('FORBIDDEN', 'this needs a signed-in admin (a session), not an API token');
  return { ...p, userId: p.userId };
}

export function registerAdminRoutes(
  app: OpenAPIHono<ApiEnv>,
  deps: { admins: Admins; addressOf: (c: Context<ApiEnv>) => string },
) {
  const { admins } = deps;
  app.openapi(list, async (c) => {
    authorize(c, { kind: 'admin' });
    return c.json({ admins: await admins.list() }, 200);
  });
  app.openapi(create, async (c) => {
    authorize(c, { kind: 'admin' });
    const body = c.req.valid('json');
    const made = await admins.create(body.email, body.password);
    c.set('auditTarget', String(made.id));
    const info = (await admins.list()).find((a) => a.id === made.id)!;
    return c.json(info, 201);
  });
  app.openapi(remove, async (c) => {
    authorize(c, { kind: 'admin' });
    await admins.remove(c.req.valid('param').id);
    return c.body(null, 204);
  });
  app.openapi(password, async (c) => {
    const p = sessionAdmin(c);
    const body = c.req.valid('json');
    await admins.changeOwn({
      userId: p.userId,
      current: body.current_password,
      next: body.new_password,
      keepToken: p.tokenId,
      address: deps.addressOf(c),
    });
    return c.body(null, 204);
  });
}
