import type { EventEmitter } from 'node:events';
import dbus from '@homebridge/dbus-native';

/**
 * The transport under the unit bus: one connection to the system bus, calls to
 * systemd with a timeout and a cap on replies pending, match rules, and the names
 * of systemd's interfaces and object paths. @homebridge/dbus-native: pure
 * JavaScript (no native build), the maintained fork of dbus-native, small.
 */

export const SYSTEMD = 'org.freedesktop.systemd1';
export const MANAGER = 'org.freedesktop.systemd1.Manager';
export const MANAGER_PATH = '/org/freedesktop/systemd1';
export const UNIT_IFACE = 'org.freedesktop.systemd1.Unit';
export const SERVICE_IFACE = 'org.freedesktop.systemd1.Service';
export const PROPS = 'org.freedesktop.DBus.Properties';
export const UNIT_PATH = '/org/freedesktop/systemd1/unit/';
export const SIGNAL = 4;

export interface BusMessage {
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
/** Counts a signal about one of pocketd's units. */
export const countMessage = (): void => {
  messages++;
};

/** A D-Bus object path's unit name: systemd escapes each byte outside [A-Za-z0-9] as _xx. */
export const unitOfPath = (p: string): string =>
  p.slice(UNIT_PATH.length).replace(/_([0-9a-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
export const pathOfUnit = (u: string): string =>
  UNIT_PATH + u.replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** One method call to systemd; its reply's values. */
export type Call = (msg: Record<string, unknown>, timeoutMs?: number) => Promise<unknown[]>;

export interface BusConnection {
  connection: Bus['connection'];
  call: Call;
  /** Adds a match rule: the signals it names are sent to this connection. */
  match(rule: string): Promise<void>;
}

export function openBus(address: string): BusConnection {
  // createClient is index.js's own export, missing from its type declarations.
  const createClient = (o: { busAddress: string }): Bus =>
    (dbus as unknown as { createClient(o: { busAddress: string }): Bus }).createClient(o);
  const bus = createClient({ busAddress: address });
  // dbus-daemon allows a connection 128 pending replies by default: calls beyond 64 wait their turn.
  let inFlight = 0;
  const waiting: Array<() => void> = [];
  const call: Call = async (msg, timeoutMs = 10_000) => {
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
  const match = (rule: string) =>
    new Promise<void>((resolve, reject) =>
      bus.addMatch(rule, (err) =>
        err ? reject(new Error(err instanceof Error ? err.message : JSON.stringify(err))) : resolve(),
      ),
    );
  return { connection: bus.connection, call, match };
}
