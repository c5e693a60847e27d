import type { UnitDetails } from '../../host/systemd/units.js';
import type { Logger } from '../../shared/log.js';
import { appOfSocket, appOfUnit, socketUnitOf, unitName } from '../../shared/naming.js';
import { stateOf } from '../apps/views.js';
import type { EventBus } from '../events.js';
import type { HealthChecker } from '../observe/health.js';

/**
 * What systemd just said of an app's units becomes an `app.state` event at once, and health
 * follows it. An app's socket counts too: while it listens and the app's unit rests, the app
 * sleeps (`state: "sleeping"`), which is neither stopped nor down; when it closes, the app is
 * stopped. A socket's change is told only when it turns sleep on or off.
 */
export function createUnitFollower(deps: {
  events: EventBus;
  health: Pick<HealthChecker, 'unitChanged'>;
  /** Whether a change of an app's unit was a crash, and how the process ended (self-healing). */
  crashes: { unitChanged(app: string, now: UnitDetails, before: UnitDetails | null): Promise<string | null> };
  /** What systemd said last of a unit (the D-Bus memory). */
  unit: (name: string) => UnitDetails | undefined;
  log: Logger;
}) {
  const asleepBefore = new Map<string, boolean>();
  return (unit: string, now: UnitDetails, before: UnitDetails | null): void => {
    const isSocket = unit.endsWith('.socket');
    const app = isSocket ? appOfSocket(unit) : appOfUnit(unit);
    if (!app) return;
    const service = isSocket ? deps.unit(unitName(app)) : now;
    if (!service) return;
    const socket = isSocket ? now : deps.unit(socketUnitOf(app));
    const asleep = socket?.active_state === 'active' && service.active_state === 'inactive';
    if (isSocket && (asleepBefore.get(app) ?? false) === asleep) return;
    asleepBefore.set(app, asleep);
    deps.events.publish('app.state', app, {
      state: stateOf('ready', service, asleep),
      active_state: service.active_state,
      sub_state: service.sub_state,
      main_pid: service.main_pid,
      restarts: service.restarts,
      from: isSocket ? service.active_state : (before?.active_state ?? null),
    });
    // A socket's change is never a crash; a service's may be, and health records how it ended.
    const crash = isSocket ? Promise.resolve(null) : deps.crashes.unitChanged(app, now, before);
    void crash
      .then((why) => deps.health.unitChanged(app, service, asleep, why))
      .catch((err: unknown) => deps.log.error({ err, app }, 'health did not follow a unit change'));
  };
}
