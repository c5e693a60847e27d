import type { Context } from 'hono';
import type { Logger } from '../shared/log.js';
import type { Principal } from '../core/auth/auth.js';
import { scopeCovers, type Need } from '../contract/scopes.js';
import { PocketdError } from '../shared/errors.js';

export interface ApiEnv {
  Variables: {
    requestId: string;
    principal: Principal | null;
    log: Logger;
    /** What the audit row names as the request's target, when a handler knows better than the URL. */
    auditTarget: string | undefined;
  };
}

export type ApiContext = Context<ApiEnv>;

/** The caller, or 401. */
export function principalOf(c: ApiContext): Principal {
  const p = c.get('principal');
  if (!p) throw new PocketdError('UNAUTHENTICATED', 'a valid bearer token is required');
  return p;
}

/** 401 without a token, 403 when its scope does not cover the need. */
export function authorize(c: ApiContext, need: Need): Principal {
  const p = principalOf(c);
  if (!scopeCovers(p.scope, need)) {
    const what = need.kind === 'admin' ? 'admin' : `app:${need.app}:${need.level}`;
    throw new PocketdError('FORBIDDEN', `this token's scope (${p.scope}) does not allow this; it needs ${what}`);
  }
  return p;
}

/** Who did it: a signed-in user by email; an API token by its own name, with the user who made it beside it. */
export const actorName = (p: Principal | null): string =>
  p === null
    ? 'anonymous'
    : p.kind === 'session' && p.email !== null
      ? p.email
      : p.email !== null
        ? `token:${p.name} (${p.email})`
        : `token:${p.name}`;
