import type { SleepSettings } from '../../shared/templates.js';
import type { UnitDetails } from '../../host/systemd/units.js';

/** What an app's sleep settings make of its units: the socket and proxy, when it may sleep. */
export const sleepOf = (s: { sleep_after: number | null; wake_port: number | null }): SleepSettings | null =>
  s.sleep_after !== null && s.wake_port !== null ? { after_seconds: s.sleep_after, app_port: s.wake_port } : null;

/**
 * Whether an app sleeps now: it may (its settings), its own unit is at rest (not failed), and its
 * socket listens, so the next request wakes it. Stopped is different: then the socket is closed too.
 */
export function isAsleep(
  s: { sleep_after: number | null },
  app: Pick<UnitDetails, 'active_state'> | undefined,
  socket: Pick<UnitDetails, 'active_state'> | undefined,
): boolean {
  return s.sleep_after !== null && app?.active_state === 'inactive' && socket?.active_state === 'active';
}

/** The port to ask an app's health on without waking it or keeping it awake: the app's own, behind the proxy. */
export const probePortOf = (s: { port: number; wake_port: number | null; sleep_after: number | null }): number =>
  s.sleep_after !== null && s.wake_port !== null ? s.wake_port : s.port;
