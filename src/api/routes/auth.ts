import { getConnInfo } from '@hono/node-server/conninfo';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AuthService } from '../../core/auth.js';
import { abilitiesOf } from '../../core/abilities.js';
import { addressKey } from '../client-address.js';
import { principalOf, type ApiEnv } from '../context.js';
import { commonErrors, errors, json, jsonBody } from '../schemas.js';

const LoginBody = z
  .object({
    email: z.email().max(254),
    password: z.string().min(1).max(1024),
  })
  .strict()
  .openapi('LoginRequest');

const LoginResult = z.object({ token: z.string(), expires_at: z.string() }).openapi('Session');
const Me = z
  .object({
    name: z.string(),
    email: z.string().nullable(),
    scope: z.string(),
    kind: z.enum(['api', 'session']),
    app: z.string().nullable().describe('The one app an app-scoped token is for; null for admin'),
    can: z
      .array(z.string())
      .describe(
        'What the dashboard may offer this token (host, app.control, app.deploy, ...); the routes still decide',
      ),
  })
  .openapi('Me');

const login = createRoute({
  method: 'post',
  path: '/api/auth/login',
  tags: ['auth'],
  security: [],
  summary: 'Exchange an email and password for a session token',
  request: jsonBody(LoginBody),
  responses: { 200: json(LoginResult, 'Signed in'), ...errors(401, 415, 429), 422: commonErrors[422] },
});
const logout = createRoute({
  method: 'post',
  path: '/api/auth/logout',
  tags: ['auth'],
  summary: 'Sign out: a session token is revoked; an API token is left as it is (the dashboard only forgets it)',
  responses: { 204: { description: 'Signed out' }, ...commonErrors },
});
const me = createRoute({
  method: 'get',
  path: '/api/auth/me',
  tags: ['auth'],
  summary: 'Who the token belongs to',
  responses: { 200: json(Me, 'The caller'), ...commonErrors },
});

/** The connection's peer; 'unknown' when the runtime does not expose it (app.request in tests). */
function peerOf(c: Parameters<typeof getConnInfo>[0]): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function registerAuthRoutes(
  app: OpenAPIHono<ApiEnv>,
  auth: AuthService,
  clientAddress: (peer: string, xff?: string) => string,
) {
  app.openapi(login, async (c) => {
    const body = c.req.valid('json');
    c.set('auditTarget', body.email);
    const address = addressKey(clientAddress(peerOf(c), c.req.header('x-forwarded-for')));
    return c.json(await auth.login(body.email, body.password, address), 200);
  });
  app.openapi(logout, async (c) => {
    const p = principalOf(c);
    // A CI or admin token pasted into the dashboard must keep working elsewhere.
    if (p.kind === 'session') await auth.revoke(p.tokenId);
    return c.body(null, 204);
  });
  app.openapi(me, (c) => {
    const p = principalOf(c);
    return c.json({ name: p.name, email: p.email, scope: p.scope, kind: p.kind, ...abilitiesOf(p.scope) }, 200);
  });
}
