import { parseAppScope, scopeCovers, type Need } from './scopes.js';

/**
 * What the dashboard may offer a token, each named after what a person does and
 * mapped to the need of the route that does it. The dashboard hides what a token
 * cannot use instead of showing buttons that fail when clicked; the routes still
 * decide. When a route's need changes, its line here changes with it.
 */
const ABILITIES = {
  /** Host, Tokens, Alerts, Audit pages; new apps; admins. */
  host: 'admin',
  'apps.list': 'admin',
  'app.read': 'read',
  'app.control': 'admin',
  'app.settings': 'admin',
  'app.env': 'admin',
  'app.delete': 'admin',
  'app.deploy': 'deploy',
  'app.upgrade': 'deploy',
  'backups.create': 'deploy',
  'backups.download': 'admin',
  'backups.restore': 'admin',
  'backups.delete': 'admin',
} as const satisfies Record<string, 'admin' | 'read' | 'deploy'>;

export type Ability = keyof typeof ABILITIES;

/** The abilities a scope covers, for its own app (an app-scoped token) or for every app (admin). */
export function abilitiesOf(scope: string): { app: string | null; can: Ability[] } {
  const app = parseAppScope(scope)?.app ?? null;
  const can = (Object.keys(ABILITIES) as Ability[]).filter((a) => {
    const level = ABILITIES[a];
    const need: Need = level === 'admin' || app === null ? { kind: 'admin' } : { kind: 'app', app, level };
    return scopeCovers(scope, need);
  });
  return { app, can };
}
