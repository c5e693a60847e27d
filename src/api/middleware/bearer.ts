import type { MiddlewareHandler } from 'hono';
import type { AuthService } from '../../core/auth/auth.js';
import type { ApiEnv } from '../context.js';
import { envelope } from '../errors.js';

/** Routes that answer without a token. */
const PUBLIC = new Set(['GET /api/health', 'POST /api/auth/login', 'GET /api/openapi.json']);

/** The caller's principal from its bearer token; 401 for a bad token, or for none where one is needed. */
export function bearer(auth: AuthService): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (header !== undefined) {
      const m = /^Bearer (\S+)$/i.exec(header);
      const principal = m ? await auth.authenticate(m[1]!) : null;
      if (!principal) return envelope(c, 401, 'UNAUTHENTICATED', 'the bearer token is unknown, expired or revoked');
      c.set('principal', principal);
    } else if (!PUBLIC.has(`${c.req.method} ${c.req.path}`)) {
      return envelope(c, 401, 'UNAUTHENTICATED', 'a bearer token is required (Authorization: Bearer <token>)');
    }
    return next();
  };
}
