import { z } from 'zod';
import { describeExit, readUnitExit } from './exit.js';
import { cgroupCpuNs } from './cgroup.js';
import { exec } from '../../shared/exec.js';
import { singleFlight } from '../../shared/single-flight.js';
import type { UnitBus } from './bus.js';
import { APP_PREFIX, APP_UNIT_GLOB } from '../../shared/naming.js';

export interface UnitState {
  unit: string;
  load: string;
  active: string;
  sub: string;
}

export interface UnitDetails {
  unit: string;
  load_state: string;
  active_state: string;
  sub_state: string;
  main_pid: number | null;
  memory_bytes: number | null;
  cpu_ns: number | null;
  restarts: number;
  active_since: string | null;
  control_group: string | null;
}

const ListSchema = z.array(z.object({ unit: z.string(), load: z.string(), active: z.string(), sub: z.string() }));
const PROPS = [
  'Id',
  'LoadState',
  'ActiveState',
  'SubState',
  'MainPID',
  'MemoryCurrent',
  'CPUUsageNSec',
  'NRestarts',
  'ActiveEnterTimestamp',
  'ControlGroup',
];

const num = (v: string | undefined): number | null => {
  if (v === undefined || v === '' || v === '[not set]' || v === '18446744073709551615') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

/** Parses `systemctl show` output for several units (blocks separated by blank lines). */
export function parseShow(text: string): UnitDetails[] {
  return text
    .split(/\n\s*\n/)
    .map((block) => {
      const p: Record<string, string> = {};
      for (const line of block.split('\n')) {
        const i = line.indexOf('=');
        if (i > 0) p[line.slice(0, i)] = line.slice(i + 1);
      }
      return p;
    })
    .filter((p) => p.Id)
    .map((p) => {
      const since = num(p.ActiveEnterTimestamp?.replace(/^@/, ''));
      const pid = num(p.MainPID);
      return {
        unit: p.Id!,
        load_state: p.LoadState ?? 'unknown',
        active_state: p.ActiveState ?? 'unknown',
        sub_state: p.SubState ?? 'unknown',
        main_pid: pid && pid > 0 ? pid : null,
        memory_bytes: num(p.MemoryCurrent),
        cpu_ns: num(p.CPUUsageNSec),
        restarts: num(p.NRestarts) ?? 0,
        active_since: since && p.ActiveState === 'active' ? new Date(since * 1000).toISOString() : null,
        control_group: p.ControlGroup || null,
      };
    });
}

/**
 * Reads unit state without privilege. With a live D-Bus connection (`bus`),
 * pocketd's units are answered from memory that systemd's signals keep current
 * (no process at all); otherwise, and for other units, one process for all
 * units, never one per unit.
 */
export function createSystemd(bus: () => UnitBus | null = () => null) {
  const lists = singleFlight<UnitState[]>();
  const shows = singleFlight<Map<string, UnitDetails>>();
  const live = () => {
    const b = bus();
    return b?.connected ? b : null;
  };
  return {
    /** Where unit state comes from now. */
    source: (): 'dbus' | 'systemctl' => (live() ? 'dbus' : 'systemctl'),
    /** State of every unit matching the pattern, loaded or not: one `systemctl list-units`. */
    listUnits(pattern: string): Promise<UnitState[]> {
      const b = live();
      if (b && (pattern === APP_UNIT_GLOB || pattern === `${APP_PREFIX}*.socket`)) {
        const suffix = pattern.slice(`${APP_PREFIX}*`.length);
        return Promise.resolve(
          [...b.units().values()]
            .filter((d) => d.unit.endsWith(suffix))
            .map((d) => ({
              unit: d.unit,
              load: d.load_state,
              active: d.active_state,
              sub: d.sub_state,
            })),
        );
      }
      return lists(pattern, async () => {
        const r = await exec('systemctl', ['list-units', pattern, '--all', '--no-pager', '-o', 'json'], {
          timeoutMs: 15_000,
        });
        return ListSchema.parse(JSON.parse(r.stdout || '[]'));
      });
    },
    /** Details of many units in one `systemctl show`. */
    async show(units: string[]): Promise<Map<string, UnitDetails>> {
      const b = live();
      if (!b) return shows(units.join(' '), () => showNow(units));
      const known = b.units();
      const mine = units.filter((u) => known.has(u));
      const others = units.filter((u) => !known.has(u));
      // Memory and CPU are a detail: a slow answer from the bus never holds up a read for long.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        b.refreshUsage(mine),
        new Promise((r) => {
          timer = setTimeout(r, 2000);
        }),
      ]).finally(() => clearTimeout(timer));
      const fresh = b.units();
      const out = new Map(mine.map((u) => [u, fresh.get(u)!]));
      if (others.length) for (const [k, v] of await shows(others.join(' '), () => showNow(others))) out.set(k, v);
      return out;
    },
    /** How the unit's main process last ended, in words ("killed by signal SIGKILL"); null when unknown. */
    async exitOf(unit: string): Promise<string | null> {
      const e = await readUnitExit(unit, live());
      return e ? describeExit(e) : null;
    },
    async isReachable(): Promise<boolean> {
      const r = await exec('systemctl', ['is-system-running'], { allowFailure: true, timeoutMs: 10_000 });
      return ['running', 'degraded', 'starting'].includes(r.stdout.trim());
    },
  };

  async function showNow(units: string[]): Promise<Map<string, UnitDetails>> {
    if (units.length === 0) return new Map();
    const r = await exec('systemctl', ['show', ...units, '--no-pager', '--timestamp=unix', '-p', PROPS.join(',')], {
      timeoutMs: 30_000,
    });
    const details = parseShow(r.stdout);
    // Where systemd cannot account CPU, the cgroup's processes are read from /proc instead.
    await Promise.all(
      details.map(async (d) => {
        if (d.cpu_ns === null && d.control_group && d.active_state === 'active')
          d.cpu_ns = await cgroupCpuNs(d.control_group);
      }),
    );
    return new Map(details.map((d) => [d.unit, d]));
  }
}

export type Systemd = ReturnType<typeof createSystemd>;
