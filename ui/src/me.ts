import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

/** The signed-in token as GET /api/auth/me describes it: who, its scope, and what the dashboard may offer it. */
export interface Me {
  name: string;
  email: string | null;
  scope: string;
  kind: string;
  /** The one app of an app-scoped token; null for admin. */
  app: string | null;
  can: string[];
}

export const MeContext = createContext<Me | null>(null);

/**
 * Whether the token may do `ability` (host, app.control, app.deploy, backups.restore, ...). Until the
 * answer comes nothing that needs more than reading is offered, so no button flashes and disappears.
 */
export function useCan(): (ability: string) => boolean {
  const me = useContext(MeContext);
  return (ability) => me?.can.includes(ability) ?? false;
}
