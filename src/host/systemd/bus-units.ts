import type { UnitDetails } from './units.js';
import { MANAGER, MANAGER_PATH, SERVICE_IFACE, UNIT_IFACE, type Call } from './bus-connection.js';
import { getAll, u64 } from './bus-properties.js';

/**
 * The unit state the bus keeps: every loaded pb-* unit as systemd last said, and
 * the rules of when a unit is read again. A unit is never read on a signal; only
 * units systemd itself just listed as loaded are read whole, one read of the
 * list at a time (bus-signals.ts). Asking for a unit object makes systemd load
 * it: asking for one that is gone brings it back as a stub, which systemd then
 * drops again, signal after signal (a loop that once ran the daemon out of memory).
 */

/** A unit as the bus holds it: when its usage was read, and whether it was read whole since it last changed. */
export type Tracked = UnitDetails & { usageAt: number; whole: boolean };

export function strip(d: UnitDetails & { usageAt?: number; whole?: boolean }): UnitDetails {
  const { usageAt: _u, whole: _w, ...rest } = d;
  return rest;
}

export interface UnitTable {
  state: Map<string, Tracked>;
  /** Applies what systemd said of a unit; returns whether pocketd knew the unit before. */
  apply(unit: string, p: Map<string, unknown>): boolean;
  /** Reads the list of pb-* units again: what it says is taken, new loaded units are read whole, the unlisted forgotten. */
  resyncNow(): Promise<void>;
}

export function unitTable(opts: {
  call: Call;
  prefix: string;
  onChange: (unit: string, now: UnitDetails, before: UnitDetails | null) => void;
  onRemoved: (unit: string) => void;
}): UnitTable {
  const { call, prefix } = opts;
  const state = new Map<string, Tracked>();

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
    // A unit that does not run has no memory or CPU time in use (systemd says "not set" for both once its
    // cgroup is gone); kept, the last figures would read as a stopped app using 0% CPU.
    if (next.active_state === 'inactive' || next.active_state === 'failed') {
      next.memory_bytes = null;
      next.cpu_ns = null;
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
    if (changed) opts.onChange(unit, strip(next), before ? strip(before) : null);
    return before !== undefined;
  }

  /** Reads a listed unit whole: only for units systemd itself just listed as loaded (see above). */
  async function readWhole(unit: string) {
    const [u, s] = await Promise.all([
      getAll(call, unit, UNIT_IFACE),
      unit.endsWith('.service') ? getAll(call, unit, SERVICE_IFACE) : new Map<string, unknown>(),
    ]);
    apply(unit, new Map([...u, ...s]));
    const cur = state.get(unit);
    if (cur) cur.whole = true;
  }

  async function resyncNow(): Promise<void> {
    const [list] = await call({
      path: MANAGER_PATH,
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
    for (const u of [...state.keys()]) if (!names.has(u) && state.delete(u)) opts.onRemoved(u);
    await Promise.all(
      rows
        .filter((r) => r.load === 'loaded' && !state.get(r.unit)?.whole)
        .map((r) => readWhole(r.unit).catch(() => undefined)),
    );
  }

  return { state, apply, resyncNow };
}
