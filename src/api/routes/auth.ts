import { getConnInfo } from '@hono/node-server/conninfo';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { AuthService } from '../../core/auth/auth.js';
import { abilitiesOf } from '../../core/abilities.js';
import { addressKey } from '../middleware/client-address.js';
import { principalOf, type ApiEnv } from '../context.js';
import { commonErrors, errors, json, jsonBody } from '../../contract/common.js';
import { LoginBody, LoginResult, Me } from '../../contract/auth.js';

const login = createRoute({
  method: 'post',
  path: '/api/auth/login',
  tags: ['auth'],
  security: [],
  summary: 'Exchange an email and password (and the TOTP code of an admin with two-factor sign-in) for a session token',
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

/** The key the sign-in's lock-out counts a request's client under. */
export const clientKeyOf = (
  c: Parameters<typeof getConnInfo>[0],
  clientAddress: (peer: string, xff?: string) => string,
) => addressKey(clientAddress(peerOf(c), c.req.header('x-forwarded-for')));

export function registerAuthRoutes(
  app: OpenAPIHono<ApiEnv>,
  auth: AuthService,
  clientAddress: (peer: string, xff?: string) => string,
) {
  app.openapi(login, async (c) => {
    const body = c.req.valid('json');
    c.set('auditTarget', body.email);
    const address = clientKeyOf(c, clientAddress);
    return c.json(await auth.login(body.email, body.password, address, body.code), 200);
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
