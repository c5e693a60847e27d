import { PROPS, SERVICE_IFACE, pathOfUnit, type Call } from './bus-connection.js';

/** Reading properties of systemd's unit objects, and the shapes their values come in. */

/** Properties systemd sends with their values when they change. */
export const FOLLOWED = new Set([
  'LoadState',
  'ActiveState',
  'SubState',
  'MainPID',
  'NRestarts',
  'ActiveEnterTimestamp',
  'ControlGroup',
]);

/** A variant's value as dbus-native hands it over: [signature, [value]]. */
export function variant(v: unknown): unknown {
  return Array.isArray(v) && Array.isArray(v[1]) ? v[1][0] : v;
}

export const u64 = (v: unknown): number | null => {
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  // systemd's "not set" is 2^64-1.
  return Number.isFinite(n) && n >= 0 && n < 2 ** 63 ? n : null;
};

/** Every property of one interface of a unit object, in one call. */
export async function getAll(call: Call, unit: string, iface: string): Promise<Map<string, unknown>> {
  const [props] = await call({
    path: pathOfUnit(unit),
    interface: PROPS,
    member: 'GetAll',
    signature: 's',
    body: [iface],
  });
  return new Map((props as Array<[string, unknown]>).map(([k, v]) => [k, variant(v)]));
}

/** One property of a unit's service, its value unwrapped. */
export async function getServiceProperty(call: Call, unit: string, name: string): Promise<unknown> {
  const [value] = await call({
    path: pathOfUnit(unit),
    interface: PROPS,
    member: 'Get',
    signature: 'ss',
    body: [SERVICE_IFACE, name],
  });
  return variant(value);
}
