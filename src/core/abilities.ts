import { parseAppScope, scopeCovers, type AppLevel, type Need } from '../contract/scopes.js';

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
  /** Deleted apps' archives: list, restore as a new app, delete. */
  archives: 'admin',
  'app.read': 'read',
  'app.control': 'manage',
  'app.settings': 'manage',
  'app.env': 'manage',
  'app.delete': 'admin',
  /** The off-host replica: its target holds credentials, so only an admin sees or sets it. */
  'app.replica': 'admin',
  'app.deploy': 'deploy',
  'app.upgrade': 'manage',
  'backups.create': 'manage',
  'backups.download': 'manage',
  'backups.restore': 'manage',
  'backups.delete': 'manage',
} as const satisfies Record<string, 'admin' | AppLevel>;

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
