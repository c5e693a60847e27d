import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Admins } from '../../core/auth/admins.js';
import type { ApiEnv } from '../context.js';
import { commonErrors, errors, json, jsonBody } from '../../contract/common.js';
import { RecoveryCodes, TotpCode, TotpDisable, TotpEnrol, TotpSecret, TotpStatus } from '../../contract/admins.js';
import { sessionAdmin } from './admins.js';

const status = createRoute({
  method: 'get',
  path: '/api/auth/totp',
  tags: ['auth'],
  summary: 'Whether the signed-in admin signs in with a TOTP code',
  responses: { 200: json(TotpStatus, 'Its second factor'), ...commonErrors },
});
const enrol = createRoute({
  method: 'post',
  path: '/api/auth/totp/enrol',
  tags: ['auth'],
  summary: 'Start two-factor sign-in: a new secret, shown this once (the password is asked again)',
  request: jsonBody(TotpEnrol),
  responses: { 200: json(TotpSecret, 'The secret'), ...commonErrors, ...errors(401, 409, 429) },
});
const confirm = createRoute({
  method: 'post',
  path: '/api/auth/totp/confirm',
  tags: ['auth'],
  summary: "Turn it on with the authenticator's first code; recovery codes are shown this once",
  request: jsonBody(TotpCode),
  responses: { 200: json(RecoveryCodes, 'On'), ...commonErrors, ...errors(409) },
});
const disable = createRoute({
  method: 'post',
  path: '/api/auth/totp/disable',
  tags: ['auth'],
  summary: 'Turn it off with a code (or a recovery code) or the password',
  request: jsonBody(TotpDisable),
  responses: { 204: { description: 'Off' }, ...commonErrors, ...errors(401, 429) },
});
const renew = createRoute({
  method: 'post',
  path: '/api/auth/totp/recovery-codes',
  tags: ['auth'],
  summary: 'New recovery codes for a code; the old ones stop working',
  request: jsonBody(TotpCode),
  responses: { 200: json(RecoveryCodes, 'New codes'), ...commonErrors, ...errors(401, 409, 429) },
});

/**
 * The signed-in admin's own second factor. Every route is a session's (an API token has no sign-in to
 * protect); each proof (password, code) counts against the sign-in's lock-out. Under /api/auth/ so the
 * audit log keeps no body of them (codes, passwords), only that they were asked for.
 */
export function registerTwoFactorRoutes(
  app: OpenAPIHono<ApiEnv>,
  deps: { admins: Admins; addressOf: (c: Context<ApiEnv>) => string },
) {
  const { admins, addressOf } = deps;
  app.openapi(status, async (c) => c.json(await admins.twoFactorStatus(sessionAdmin(c).userId), 200));
  app.openapi(enrol, async (c) => {
    const p = sessionAdmin(c);
    const { password } = c.req.valid('json');
    return c.json(await admins.enrolTwoFactor({ userId: p.userId, password, address: addressOf(c) }), 200);
  });
  app.openapi(confirm, async (c) => {
    const p = sessionAdmin(c);
    return c.json(await admins.confirmTwoFactor(p.userId, c.req.valid('json').code), 200);
  });
  app.openapi(disable, async (c) => {
    const p = sessionAdmin(c);
    const { code, password } = c.req.valid('json');
    await admins.disableTwoFactor({ userId: p.userId, code, password, address: addressOf(c) });
    return c.body(null, 204);
  });
  app.openapi(renew, async (c) => {
    const p = sessionAdmin(c);
    const { code } = c.req.valid('json');
    return c.json(await admins.renewRecovery({ userId: p.userId, code, address: addressOf(c) }), 200);
  });
}
