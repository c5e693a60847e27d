import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AuthService } from '../../core/auth/auth.js';
import { authorize, type ApiEnv } from '../context.js';
import { commonErrors, errors, json, jsonBody } from '../../contract/common.js';
import { TokenInfo, CreateToken, Created, IdParam } from '../../contract/tokens.js';

const list = createRoute({
  method: 'get',
  path: '/api/tokens',
  tags: ['tokens'],
  summary: 'API tokens that are valid now',
  responses: { 200: json(z.object({ tokens: z.array(TokenInfo) }), 'Tokens'), ...commonErrors },
});
const create = createRoute({
  method: 'post',
  path: '/api/tokens',
  tags: ['tokens'],
  summary: 'Create a token; its secret is shown once',
  request: jsonBody(CreateToken),
  responses: { 201: json(Created, 'Created'), ...commonErrors },
});
const remove = createRoute({
  method: 'delete',
  path: '/api/tokens/{id}',
  tags: ['tokens'],
  summary: 'Revoke a token',
  request: { params: IdParam },
  responses: { 204: { description: 'Revoked' }, ...commonErrors, ...errors(404) },
});

export function registerTokenRoutes(app: OpenAPIHono<ApiEnv>, auth: AuthService) {
  app.openapi(list, async (c) => {
    authorize(c, { kind: 'admin' });
    return c.json({ tokens: await auth.listTokens() }, 200);
  });
  app.openapi(create, async (c) => {
    const p = authorize(c, { kind: 'admin' });
    const body = c.req.valid('json');
    c.set('auditTarget', body.name);
    return c.json(await auth.createApiToken(body.name, body.scope, body.expires_days, p.userId), 201);
  });
  app.openapi(remove, async (c) => {
    authorize(c, { kind: 'admin' });
    await auth.revoke(c.req.valid('param').id);
    return c.body(null, 204);
  });
}
