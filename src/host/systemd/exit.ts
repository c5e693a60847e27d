import { exec } from '../../shared/exec.js';
import type { UnitBus } from './bus.js';

/** How a unit's main process last ended, as systemd says it (`Result`, `ExecMainCode`, `ExecMainStatus`). */
export interface UnitExit {
  /** systemd's result of the unit: `success`, `exit-code`, `signal`, `core-dump`, `timeout`, `start-limit-hit`, ... */
  result: string;
  /** 1 exited, 2 killed, 3 dumped core (CLD_* of waitid); 0 when it has not ended. */
  code: number;
  /** The exit status, or the signal's number when killed. */
  status: number;
}

const SIGNALS: Record<number, string> = {
  1: 'HUP',
  2: 'INT',
  3: 'QUIT',
  4: 'ILL',
  6: 'ABRT',
  7: 'BUS',
  8: 'FPE',
  9: 'KILL',
  11: 'SEGV',
  13: 'PIPE',
  14: 'ALRM',
  15: 'TERM',
  24: 'XCPU',
  25: 'XFSZ',
  31: 'SYS',
};

/** One phrase a person reads: "killed by signal KILL", "exited with status 1", "start limit hit". */
export function describeExit(e: UnitExit): string {
  const main =
    e.code === 2 || e.code === 3
      ? `killed by signal ${SIGNALS[e.status] ? `SIG${SIGNALS[e.status]}` : e.status}${e.code === 3 ? ' (core dumped)' : ''}`
      : e.code === 1
        ? `exited with status ${e.status}`
        : 'not ended yet';
  const why: Record<string, string> = {
    'start-limit-hit': "; systemd's start limit was hit, it stopped restarting it",
    timeout: '; a timeout ran out',
    'oom-kill': '; the kernel ended it for memory (MemoryMax)',
    watchdog: '; the watchdog ended it',
  };
  return `${main}${why[e.result] ?? ''}`;
}

const num = (v: unknown): number => {
  const n = typeof v === 'bigint' ? Number(v) : Number(v);
  return Number.isFinite(n) ? n : 0;
};

/** Reads how the unit's main process ended: over D-Bus when connected, else one `systemctl show`. */
export async function readUnitExit(unit: string, bus: UnitBus | null): Promise<UnitExit | null> {
  const names = ['Result', 'ExecMainCode', 'ExecMainStatus'];
  let p: Map<string, unknown>;
  if (bus?.connected) {
    p = await bus.serviceProperties(unit, names);
  } else {
    const r = await exec('systemctl', ['show', unit, '--no-pager', '-p', names.join(',')], {
      allowFailure: true,
      timeoutMs: 10_000,
    });
    p = new Map(
      r.stdout
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
    );
  }
  if (!p.has('Result')) return null;
  return { result: String(p.get('Result')), code: num(p.get('ExecMainCode')), status: num(p.get('ExecMainStatus')) };
}
