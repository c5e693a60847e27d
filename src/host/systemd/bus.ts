import { EventEmitter } from 'node:events';
import dbus from '@homebridge/dbus-native';
import type { Logger } from '../../shared/log.js';
import { cgroupCpuNs } from './cgroup.js';
import type { UnitDetails } from './units.js';
import { APP_PREFIX } from '../../shared/naming.js';

/**
 * One long-lived connection to systemd's D-Bus API, subscribed to its signals:
 * the state of every `pb-*.service` unit lives in memory and changes when
 * systemd says so (a crash, a kill, a stop, a restart by systemd), so reading
 * it costs no process and a change is an event at once. Memory and CPU time,
 * which systemd does not signal, are asked over the same connection when they
 * are older than a moment. @homebridge/dbus-native: pure JavaScript (no native
 * build), the maintained fork of dbus-native, small.
 *
 * Over 300 lines on purpose: the connection, the map of units and the rules of
 * when a unit is read again (never on a signal; only units systemd just listed
 * as loaded, one resync at a time) hold each other up and are read together;
 * split apart, the loop of loading a deleted unit that once ran the daemon out
 * of memory would be easy to bring back.
 */

const SYSTEMD = 'org.freedesktop.systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
const UNIT_IFACE = 'org.freedesktop.systemd1.Unit';
const SERVICE_IFACE = 'org.freedesktop.systemd1.Service';
const PROPS = 'org.freedesktop.DBus.Properties';
const UNIT_PATH = '/org/freedesktop/systemd1/unit/';
const SIGNAL = 4;
/** Properties systemd sends with their values when they change. */
const FOLLOWED = new Set([
  'LoadState',
  'ActiveState',
  'SubState',
  'MainPID',
  'NRestarts',
  'ActiveEnterTimestamp',
  'ControlGroup',
]);

interface BusMessage {
  type: number;
  path?: string;
  interface?: string;
  member?: string;
  body?: unknown[];
}
interface Bus {
  invoke(
    msg: Record<string, unknown>,
    cb: (err: { name: string; message: unknown } | undefined | null, ...values: unknown[]) => void,
  ): void;
  addMatch(rule: string, cb: (err: unknown) => void): void;
  connection: EventEmitter & { end?: () => void; stream?: { destroy(): void } };
}

let messages = 0;
/** Signals about pocketd's units and calls made, over every connection since start: a quiet host keeps it still. */
export const busMessagesSeen = (): number => messages;

/** A D-Bus object path's unit name: systemd escapes each byte outside [A-Za-z0-9] as _xx. */
export const unitOfPath = (p: string): string =>
  p.slice(UNIT_PATH.length).replace(/_([0-9a-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
export const pathOfUnit = (u: string): string =>
  UNIT_PATH + u.replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** A variant's value as dbus-native hands it over: [signature, [value]]. */
function variant(v: unknown): unknown {
  return Array.isArray(v) && Array.isArray(v[1]) ? v[1][0] : v;
}
const u64 = (v: unknown): number | null => {
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  // systemd's "not set" is 2^64-1.
  return Number.isFinite(n) && n >= 0 && n < 2 ** 63 ? n : null;
};

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
  const state = new Map<string, UnitDetails & { usageAt: number; whole: boolean }>();
  const self = new EventEmitter() as UnitBus & EventEmitter;
  let connected = false;

  // createClient is index.js's own export, missing from its type declarations.
  const createClient = (o: { busAddress: string }): Bus =>
    (dbus as unknown as { createClient(o: { busAddress: string }): Bus }).createClient(o);
  const bus = createClient({ busAddress: opts.address ?? 'unix:path=/run/dbus/system_bus_socket' });
  // dbus-daemon allows a connection 128 pending replies by default: calls beyond 64 wait their turn.
  let inFlight = 0;
  const waiting: Array<() => void> = [];
  const call = async (msg: Record<string, unknown>, timeoutMs = 10_000): Promise<unknown[]> => {
    if (inFlight >= 64) await new Promise<void>((r) => waiting.push(r));
    inFlight++;
    messages++;
    try {
      return await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`D-Bus ${String(msg.member)} timed out`)), timeoutMs);
        bus.invoke({ destination: SYSTEMD, ...msg }, (err, ...values) => {
          clearTimeout(timer);
          if (err) reject(new Error(`${err.name}: ${String(err.message)}`));
          else resolve(values);
        });
      });
    } finally {
      inFlight--;
      waiting.shift()?.();
    }
  };
  const getAll = async (unit: string, iface: string): Promise<Map<string, unknown>> => {
    const [props] = await call({
      path: pathOfUnit(unit),
      interface: PROPS,
      member: 'GetAll',
      signature: 's',
      body: [iface],
    });
    return new Map((props as Array<[string, unknown]>).map(([k, v]) => [k, variant(v)]));
  };

  /** Applies what systemd said of a unit; returns whether pocketd knew the unit before. */
  function apply(unit: string, p: Map<string, unknown>): boolean {
    const before = state.get(unit);
    const cur = before ?? {
      unit,
      load_state: 'unknown',
      active_state: 'unknown',
      sub_state: 'unknown',
      main_pid: null,
      memory_bytes: null,
      cpu_ns: null,
      restarts: 0,
      active_since: null,
      control_group: null,
      usageAt: 0,
      whole: false,
    };
    const next = { ...cur };
    if (p.has('LoadState')) next.load_state = String(p.get('LoadState'));
    if (p.has('ActiveState')) next.active_state = String(p.get('ActiveState'));
    if (p.has('SubState')) next.sub_state = String(p.get('SubState'));
    if (p.has('MainPID')) {
      const pid = u64(p.get('MainPID'));
      next.main_pid = pid && pid > 0 ? pid : null;
    }
    if (p.has('NRestarts')) next.restarts = u64(p.get('NRestarts')) ?? 0;
    if (p.has('ControlGroup')) next.control_group = String(p.get('ControlGroup')) || null;
    if (p.has('MemoryCurrent')) next.memory_bytes = u64(p.get('MemoryCurrent'));
    if (p.has('CPUUsageNSec')) next.cpu_ns = u64(p.get('CPUUsageNSec'));
    if (p.has('ActiveEnterTimestamp')) {
      const us = u64(p.get('ActiveEnterTimestamp'));
      next.active_since = us ? new Date(us / 1000).toISOString() : null;
    }
    if (next.active_state !== 'active') next.active_since = null;
    // A unit that does not run has no memory in use (systemd says "not set").
    if (next.active_state === 'inactive' || next.active_state === 'failed') {
      next.memory_bytes = null;
      next.control_group = null;
    }
    // Usage known from before a start or stop is asked again at the next read.
    if (before && before.active_state !== next.active_state) next.usageAt = 0;
    state.set(unit, next);
    const changed =
      !before ||
      before.active_state !== next.active_state ||
      before.sub_state !== next.sub_state ||
      before.main_pid !== next.main_pid ||
      before.restarts !== next.restarts;
    if (changed) self.emit('change', unit, strip(next), before ? strip(before) : null);
    return before !== undefined;
  }

  /**
   * Reads a listed unit whole. Asking for a unit object makes systemd load it, so
   * this is only done for units systemd itself just listed as loaded: asking for
   * one that is gone would bring it back as a stub, which systemd then drops
   * again, signal after signal.
   */
  async function readWhole(unit: string) {
    const [u, s] = await Promise.all([
      getAll(unit, UNIT_IFACE),
      unit.endsWith('.service') ? getAll(unit, SERVICE_IFACE) : new Map<string, unknown>(),
    ]);
    apply(unit, new Map([...u, ...s]));
    const cur = state.get(unit);
    if (cur) cur.whole = true;
  }

  bus.connection.on('message', (msg: BusMessage) => {
    // A signal of an unexpected shape must never take the daemon down: it is logged and the list read again.
    try {
      onSignal(msg);
    } catch (err) {
      opts.log.warn({ err: (err as Error).message, member: msg.member }, 'an unexpected signal from systemd');
      resyncSoon();
    }
  });
  function onSignal(msg: BusMessage): void {
    if (msg.type !== SIGNAL || !msg.body) return;
    if (msg.interface === PROPS && msg.member === 'PropertiesChanged' && msg.path?.startsWith(UNIT_PATH)) {
      const unit = unitOfPath(msg.path);
      if (!wanted(unit)) return;
      messages++;
      const [, changed, invalidated] = msg.body as [string, Array<[string, unknown]>, string[]];
      // The properties pocketd follows are sent with their values; a unit not known yet, or one whose
      // followed values systemd only says have changed, is settled by reading the list again.
      const known = apply(unit, new Map(changed.map(([k, v]) => [k, variant(v)])));
      if (invalidated?.some((k) => FOLLOWED.has(k))) {
        const cur = state.get(unit);
        if (cur) cur.whole = false;
        resyncSoon();
      } else if (!known) resyncSoon();
    } else if (
      msg.interface === MANAGER &&
      ['UnitNew', 'UnitRemoved'].includes(msg.member ?? '') &&
      wanted(String(msg.body[0]))
    ) {
      // A new unit object may still be a stub and a removed one may come back: the list says which.
      messages++;
      resyncSoon();
    } else if (msg.interface === MANAGER && msg.member === 'Reloading' && !msg.body[0]) {
      // After a reload every unit object may be new.
      for (const cur of state.values()) cur.whole = false;
      resyncSoon();
    }
  }

  /** Reads the list of pb-* units again: what it says is taken, new loaded units are read whole, the unlisted forgotten. */
  async function resyncNow(): Promise<void> {
    const [list] = await call({
      path: '/org/freedesktop/systemd1',
      interface: MANAGER,
      member: 'ListUnitsByPatterns',
      signature: 'asas',
      body: [[], [`${prefix}*.service`, `${prefix}*.socket`]],
    });
    // Each row: name, description, load state, active state, sub state, following, path, job...
    const rows = (list as unknown[][]).map((r) => ({
      unit: String(r[0]),
      load: String(r[2]),
      active: String(r[3]),
      sub: String(r[4]),
    }));
    for (const r of rows)
      apply(
        r.unit,
        new Map([
          ['LoadState', r.load],
          ['ActiveState', r.active],
          ['SubState', r.sub],
        ]),
      );
    const names = new Set(rows.map((r) => r.unit));
    for (const u of [...state.keys()]) if (!names.has(u) && state.delete(u)) self.emit('removed', u);
    await Promise.all(
      rows
        .filter((r) => r.load === 'loaded' && !state.get(r.unit)?.whole)
        .map((r) => readWhole(r.unit).catch(() => undefined)),
    );
  }
  // One read of the list at a time; a signal during one asks for one more after it.
  let resyncing: Promise<void> | null = null;
  let again = false;
  function resync(): Promise<void> {
    if (resyncing) {
      again = true;
      return resyncing;
    }
    resyncing = (async () => {
      try {
        do {
          again = false;
          await resyncNow();
        } while (again && connected);
      } finally {
        resyncing = null;
      }
    })();
    return resyncing;
  }
  let resyncTimer: NodeJS.Timeout | undefined;
  function resyncSoon(): void {
    if (resyncTimer) return;
    resyncTimer = setTimeout(() => {
      resyncTimer = undefined;
      if (connected)
        void resync().catch((err: unknown) =>
          opts.log.warn({ err: (err as Error).message }, 'resync with systemd failed'),
        );
    }, 100);
  }
  const down = (why: string) => {
    if (!connected) return;
    connected = false;
    opts.log.warn({ why }, 'the D-Bus connection to systemd is gone; reading state with systemctl');
    self.emit('down', why);
  };
  bus.connection.on('error', (err: Error) => down(err.message));
  bus.connection.on('end', () => down('closed'));

  const match = (rule: string) =>
    new Promise<void>((resolve, reject) =>
      bus.addMatch(rule, (err) =>
        err ? reject(new Error(err instanceof Error ? err.message : JSON.stringify(err))) : resolve(),
      ),
    );
  const init = async () => {
    await match(
      `type='signal',sender='${SYSTEMD}',interface='${PROPS}',member='PropertiesChanged',path_namespace='/org/freedesktop/systemd1/unit'`,
    );
    await match(`type='signal',sender='${SYSTEMD}',interface='${MANAGER}'`);
    // Without a subscriber systemd sends no unit signals at all.
    await call({ path: '/org/freedesktop/systemd1', interface: MANAGER, member: 'Subscribe' });
    await resync();
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      init(),
      new Promise((_, reject) => {
        bus.connection.once('error', reject);
        bus.connection.once('end', () => reject(new Error('closed')));
      }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer in time')), opts.timeoutMs ?? 60_000);
      }),
    ]);
  } catch (err) {
    bus.connection.removeAllListeners();
    bus.connection.stream?.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  connected = true;
  // A safety net under the signals: the list is read again now and then (one call, no process).
  const every = setInterval(resyncSoon, 30_000);
  every.unref();

  return Object.assign(self, {
    get connected() {
      return connected;
    },
    units: () => new Map([...state].map(([k, v]) => [k, strip(v)])),
    async refreshUsage(units: string[], maxAgeMs = 2000) {
      const now = Date.now();
      // Only loaded units that run are asked (asking for a unit object loads it; a stopped one has no usage).
      const due = units.filter((u) => {
        const cur = state.get(u);
        return (
          cur &&
          u.endsWith('.service') &&
          cur.load_state === 'loaded' &&
          cur.active_state !== 'inactive' &&
          cur.usageAt < now - maxAgeMs
        );
      });
      await Promise.all(
        due.map(async (u) => {
          const [mem, cpu] = await Promise.all([
            call({
              path: pathOfUnit(u),
              interface: PROPS,
              member: 'Get',
              signature: 'ss',
              body: [SERVICE_IFACE, 'MemoryCurrent'],
            }),
            call({
              path: pathOfUnit(u),
              interface: PROPS,
              member: 'Get',
              signature: 'ss',
              body: [SERVICE_IFACE, 'CPUUsageNSec'],
            }),
          ]).catch(() => [[null], [null]]);
          const cur = state.get(u);
          if (!cur) return;
          cur.memory_bytes = u64(variant(mem[0]));
          cur.cpu_ns = u64(variant(cpu[0]));
          // systemd does not signal the control group of a unit that started: it is asked when it is needed.
          if (cur.cpu_ns === null && !cur.control_group && cur.active_state === 'active') {
            const [cg] = await call({
              path: pathOfUnit(u),
              interface: PROPS,
              member: 'Get',
              signature: 'ss',
              body: [SERVICE_IFACE, 'ControlGroup'],
            }).catch(() => [null]);
            cur.control_group = typeof variant(cg) === 'string' && variant(cg) ? String(variant(cg)) : null;
          }
          // Where systemd cannot account CPU (cgroup v1 with cpu and cpuacct apart) the cgroup's processes are read from /proc.
          if (cur.cpu_ns === null && cur.control_group && cur.active_state === 'active')
            cur.cpu_ns = await cgroupCpuNs(cur.control_group);
          cur.usageAt = now;
        }),
      );
    },
    async serviceProperties(unit: string, names: string[]) {
      if (state.get(unit)?.load_state !== 'loaded') return new Map<string, unknown>();
      const values = await Promise.all(
        names.map((n) =>
          call({ path: pathOfUnit(unit), interface: PROPS, member: 'Get', signature: 'ss', body: [SERVICE_IFACE, n] }),
        ),
      );
      return new Map(names.map((n, i) => [n, variant(values[i]![0])]));
    },
    close() {
      connected = false;
      clearInterval(every);
      clearTimeout(resyncTimer);
      bus.connection.removeAllListeners('end');
      bus.connection.stream?.destroy();
    },
  });
}

function strip(d: UnitDetails & { usageAt?: number; whole?: boolean }): UnitDetails {
  const { usageAt: _u, whole: _w, ...rest } = d;
  return rest;
}
