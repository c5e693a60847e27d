import { z } from 'zod';
import { APP_NAME_PATTERN } from '../shared/rules.js';

/** A token's display name: printable, no quotes or control characters. */
export const tokenNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9 ._:@-]+$/, 'letters, digits, space and . _ : @ - only');

/** The levels of an app's token, each allowing what the one before it does and more. */
export const APP_LEVELS = ['read', 'deploy', 'manage'] as const;
export type AppLevel = (typeof APP_LEVELS)[number];

/** What a route needs: the whole host, or one app at a level. */
export type Need = { kind: 'admin' } | { kind: 'app'; app: string; level: AppLevel };

/**
 * What each scope allows: the one table that the routes enforce (each route names the level it needs), README
 * renders (`## Scopes`, checked by test/unit/readme.test.ts) and the OpenAPI document carries.
 */
export const SCOPE_TABLE: ReadonlyArray<{ scope: string; allows: string }> = [
  {
    scope: 'app:<name>:read',
    allows:
      'read the app: its settings (env values masked), state, health, metrics, logs, deployments, bundles (and their zips) and backups',
  },
  {
    scope: 'app:<name>:deploy',
    allows:
      'what read allows, and upload and deploy bundles of the app and cancel its bundle deploys: what CI needs; not the PocketBase version, env, settings, backups or a rollback',
  },
  {
    scope: 'app:<name>:manage',
    allows:
      'what deploy allows, and upgrade the PocketBase version (a downgrade only with `allow_downgrade: true`), roll back, start, stop, restart, change settings and env, set the superuser, create, restore and delete backups',
  },
  {
    scope: 'admin',
    allows: 'everything: every app (create, delete, repair), the host, tokens, alerts, the audit log',
  },
];

/** The table as Markdown, as README and the OpenAPI document show it. */
export const scopeTableMarkdown = (): string =>
  ['| Scope | Allows |', '| --- | --- |', ...SCOPE_TABLE.map((r) => `| \`${r.scope}\` | ${r.allows} |`)].join('\n');

export const scopeSchema = z
  .string()
  .max(64)
  .refine(
    (s) => s === 'admin' || parseAppScope(s) !== null,
    'must be admin, app:<name>:read, app:<name>:deploy or app:<name>:manage',
  );

export function parseAppScope(scope: string): { app: string; level: AppLevel } | null {
  const m = /^app:([^:]+):(read|deploy|manage)$/.exec(scope);
  if (!m || !APP_NAME_PATTERN.test(m[1]!)) return null;
  return { app: m[1]!, level: m[2] as AppLevel };
}

/** Every scope made for an app, whatever its level (a delete revokes them all). */
export const appScopes = (app: string): string[] => APP_LEVELS.map((l) => `app:${app}:${l}`);

/** Whether a token's scope covers a need: a level covers the levels before it, for its own app. */
export function scopeCovers(scope: string, need: Need): boolean {
  if (scope === 'admin') return true;
  if (need.kind === 'admin') return false;
  const s = parseAppScope(scope);
  if (!s || s.app !== need.app) return false;
  return APP_LEVELS.indexOf(s.level) >= APP_LEVELS.indexOf(need.level);
}
