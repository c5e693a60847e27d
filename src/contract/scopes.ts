import { z } from 'zod';
import { APP_NAME_PATTERN } from '../shared/rules.js';

/** A token's display name: printable, no quotes or control characters. */
export const tokenNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9 ._:@-]+$/, 'letters, digits, space and . _ : @ - only');

/** What a route needs: the whole host, or one app at a level. */
export type Need = { kind: 'admin' } | { kind: 'app'; app: string; level: 'read' | 'deploy' };

export const scopeSchema = z
  .string()
  .max(64)
  .refine((s) => s === 'admin' || parseAppScope(s) !== null, 'must be admin, app:<name>:read or app:<name>:deploy');

export function parseAppScope(scope: string): { app: string; level: 'read' | 'deploy' } | null {
  const m = /^app:([^:]+):(read|deploy)$/.exec(scope);
  if (!m || !APP_NAME_PATTERN.test(m[1]!)) return null;
  return { app: m[1]!, level: m[2] as 'read' | 'deploy' };
}

/** Whether a token's scope covers a need. `deploy` includes `read` for its own app. */
export function scopeCovers(scope: string, need: Need): boolean {
  if (scope === 'admin') return true;
  if (need.kind === 'admin') return false;
  const s = parseAppScope(scope);
  if (!s || s.app !== need.app) return false;
  return s.level === 'deploy' || need.level === 'read';
}
