import { EventEmitter } from 'node:events';
import type { Logger } from '../../shared/log.js';
import type { UnitDetails } from './units.js';
import { APP_PREFIX } from '../../shared/naming.js';
import { openBus } from './bus-connection.js';
import { unitTable, strip } from './bus-units.js';
import { followSignals } from './bus-signals.js';
import { refreshUsage, serviceProperties } from './bus-usage.js';

export { busMessagesSeen, unitOfPath, pathOfUnit } from './bus-connection.js';

/**
 * One long-lived connection to systemd's D-Bus API, subscribed to its signals:
 * the state of every `pb-*.service` unit lives in memory and changes when
 * systemd says so (a crash, a kill, a stop, a restart by systemd), so reading
 * it costs no process and a change is an event at once. Memory and CPU time,
 * which systemd does not signal, are asked over the same connection when they
 * are older than a moment.
 *
 * Split by concern as go-systemd's dbus package is: the transport
 * (bus-connection.ts), properties and their value shapes (bus-properties.ts),
 * the unit state and when a unit is read again (bus-units.ts), the subscription
 * and its signals (bus-signals.ts), usage (bus-usage.ts); this file connects
 * them and keeps the connection's life.
 */

export interface UnitBus extends EventEmitter {
  readonly connected: boolean;
  /** Live state of every loaded pb-* unit, memory and CPU as of the last refresh. */
  units(): Map<string, UnitDetails>;
  /** Asks for memory and CPU of these units when what is known is older than `maxAgeMs`. */
  refreshUsage(units: string[], maxAgeMs?: number): Promise<void>;
  /** Properties of a loaded unit's service (how its main process ended, for one), in one call each. */
  serviceProperties(unit: string, names: string[]): Promise<Map<string, unknown>>;
  close(): void;
}

export async function connectUnitBus(opts: {
  address?: string;
  prefix?: string;
  log: Logger;
  timeoutMs?: number;
}): Promise<UnitBus> {
  const prefix = opts.prefix ?? APP_PREFIX;
  // An app's service, and the socket of an app that may sleep (it listens while the app sleeps).
  const wanted = (unit: string) => unit.startsWith(prefix) && (unit.endsWith('.service') || unit.endsWith('.socket'));
  const self = new EventEmitter() as UnitBus & EventEmitter;
  let connected = false;

  const conn = openBus(opts.address ?? 'unix:path=/run/dbus/system_bus_socket');
  const { call } = conn;
  const table = unitTable({
    call,
    prefix,
    onChange: (unit, now, before) => self.emit('change', unit, now, before),
    onRemoved: (unit) => self.emit('removed', unit),
  });
  const { state } = table;
  const signals = followSignals({ conn, table, wanted, log: opts.log, connected: () => connected });

  const down = (why: string) => {
    if (!connected) return;
    connected = false;
    opts.log.warn({ why }, 'the D-Bus connection to systemd is gone; reading state with systemctl');
    self.emit('down', why);
  };
  conn.connection.on('error', (err: Error) => down(err.message));
  conn.connection.on('end', () => down('closed'));

  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      signals.subscribe(),
      new Promise((_, reject) => {
        conn.connection.once('error', reject);
        conn.connection.once('end', () => reject(new Error('closed')));
      }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer in time')), opts.timeoutMs ?? 60_000);
      }),
    ]);
  } catch (err) {
    conn.connection.removeAllListeners();
    conn.connection.stream?.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  connected = true;
  // A safety net under the signals: the list is read again now and then (one call, no process).
  const every = setInterval(signals.resyncSoon, 30_000);
  every.unref();

  return Object.assign(self, {
    get connected() {
      return connected;
    },
    units: () => new Map([...state].map(([k, v]) => [k, strip(v)])),
    refreshUsage: (units: string[], maxAgeMs = 2000) => refreshUsage(call, state, units, maxAgeMs),
    serviceProperties: (unit: string, names: string[]) => serviceProperties(call, state, unit, names),
    close() {
      connected = false;
      clearInterval(every);
      signals.stop();
      conn.connection.removeAllListeners('end');
      conn.connection.stream?.destroy();
    },
  });
}
