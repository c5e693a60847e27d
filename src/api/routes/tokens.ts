import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AuthService } from '../../core/auth/auth.js';
import { scopeSchema, tokenNameSchema } from '../../contract/scopes.js';
import { authorize, type ApiEnv } from '../context.js';
import { commonErrors, errors, json, jsonBody } from '../../contract/common.js';

const TokenInfo = z
  .object({
    id: z.number().int(),
    name: z.string(),
    kind: z.enum(['api', 'session']),
    scope: z.string(),
    prefix: z.string(),
    created_at: z.string(),
    expires_at: z.string(),
    last_used_at: z.string().nullable(),
  })
  .openapi('Token');

const CreateToken = z
  .object({
    name: tokenNameSchema,
    scope: scopeSchema,
    expires_days: z.number().int().min(1).max(365).default(90),
  })
  .strict()
  .openapi('CreateToken');

const Created = z.object({ token: z.string().describe('The secret; shown only once'), info: TokenInfo });
const IdParam = z.object({ id: z.coerce.number().int().positive() });

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
