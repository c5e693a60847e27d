import type { Logger } from '../../shared/log.js';
import { singleFlight } from '../../shared/single-flight.js';
import {
  MANAGER,
  MANAGER_PATH,
  PROPS,
  SIGNAL,
  SYSTEMD,
  UNIT_PATH,
  countMessage,
  unitOfPath,
  type BusConnection,
  type BusMessage,
} from './bus-connection.js';
import { FOLLOWED, variant } from './bus-properties.js';
import type { UnitTable } from './bus-units.js';

/**
 * The subscription: the match rules and systemd's Subscribe, and what each
 * signal does to the unit table. A property change carries its values and is
 * applied as it is; anything else (a unit new or removed, a reload, a value
 * only said to have changed) asks for the list to be read again, soon and one
 * read at a time.
 */
export function followSignals(opts: {
  conn: BusConnection;
  table: UnitTable;
  wanted: (unit: string) => boolean;
  log: Logger;
  connected: () => boolean;
}) {
  const { conn, table, wanted, log } = opts;

  conn.connection.on('message', (msg: BusMessage) => {
    // A signal of an unexpected shape must never take the daemon down: it is logged and the list read again.
    try {
      onSignal(msg);
    } catch (err) {
      log.warn({ err: (err as Error).message, member: msg.member }, 'an unexpected signal from systemd');
      resyncSoon();
    }
  });
  function onSignal(msg: BusMessage): void {
    if (msg.type !== SIGNAL || !msg.body) return;
    if (msg.interface === PROPS && msg.member === 'PropertiesChanged' && msg.path?.startsWith(UNIT_PATH)) {
      const unit = unitOfPath(msg.path);
      if (!wanted(unit)) return;
      countMessage();
      const [, changed, invalidated] = msg.body as [string, Array<[string, unknown]>, string[]];
      // The properties pocketd follows are sent with their values; a unit not known yet, or one whose
      // followed values systemd only says have changed, is settled by reading the list again.
      const known = table.apply(unit, new Map(changed.map(([k, v]) => [k, variant(v)])));
      if (invalidated?.some((k) => FOLLOWED.has(k))) {
        const cur = table.state.get(unit);
        if (cur) cur.whole = false;
        resyncSoon();
      } else if (!known) resyncSoon();
    } else if (
      msg.interface === MANAGER &&
      ['UnitNew', 'UnitRemoved'].includes(msg.member ?? '') &&
      wanted(String(msg.body[0]))
    ) {
      // A new unit object may still be a stub and a removed one may come back: the list says which.
      countMessage();
      resyncSoon();
    } else if (msg.interface === MANAGER && msg.member === 'Reloading' && !msg.body[0]) {
      // After a reload the list is read again: a unit that is new or gone since is settled by it (and a new one
      // read whole). The units pocketd knows keep what it followed: systemd's reload re-reads unit files, not
      // a unit's state, and it sends a change signal for each unit it changed. Reading every unit whole again
      // cost the daemon about 2 s of CPU per reload with 200 apps (issue #29), while their apps started.
      resyncSoon();
    }
  }

  // One read of the list at a time; a signal during one asks for one more after it (while connected).
  const reads = singleFlight<void>({ rerun: opts.connected });
  const resync = () => reads('list', () => table.resyncNow());
  let resyncTimer: NodeJS.Timeout | undefined;
  function resyncSoon(): void {
    if (resyncTimer) return;
    resyncTimer = setTimeout(() => {
      resyncTimer = undefined;
      if (opts.connected())
        void resync().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'resync with systemd failed'));
    }, 100);
  }

  /** Asks for systemd's signals (without a subscriber it sends no unit signals at all), then reads the list. */
  async function subscribe(): Promise<void> {
    await conn.match(
      `type='signal',sender='${SYSTEMD}',interface='${PROPS}',member='PropertiesChanged',path_namespace='/org/freedesktop/systemd1/unit'`,
    );
    await conn.match(`type='signal',sender='${SYSTEMD}',interface='${MANAGER}'`);
    await conn.call({ path: MANAGER_PATH, interface: MANAGER, member: 'Subscribe' });
    await resync();
  }

  return { subscribe, resyncSoon, stop: () => clearTimeout(resyncTimer) };
}
