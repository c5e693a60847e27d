import { cgroupCpuNs } from './cgroup.js';
import type { Call } from './bus-connection.js';
import { getServiceProperty, u64 } from './bus-properties.js';
import type { Tracked } from './bus-units.js';

/**
 * Memory and CPU time, which systemd does not signal: asked over the bus for the
 * units that run, when what is known is older than `maxAgeMs`. Only loaded units
 * are asked (asking for a unit object loads it; a stopped one has no usage).
 */
export async function refreshUsage(
  call: Call,
  state: Map<string, Tracked>,
  units: string[],
  maxAgeMs: number,
): Promise<void> {
  const now = Date.now();
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
        getServiceProperty(call, u, 'MemoryCurrent'),
        getServiceProperty(call, u, 'CPUUsageNSec'),
      ]).catch(() => [null, null]);
      const cur = state.get(u);
      if (!cur) return;
      cur.memory_bytes = u64(mem);
      cur.cpu_ns = u64(cpu);
      // systemd does not signal the control group of a unit that started: it is asked when it is needed.
      if (cur.cpu_ns === null && !cur.control_group && cur.active_state === 'active') {
        const cg = await getServiceProperty(call, u, 'ControlGroup').catch(() => null);
        cur.control_group = typeof cg === 'string' && cg ? cg : null;
      }
      // Where systemd cannot account CPU (cgroup v1 with cpu and cpuacct apart) the cgroup's processes are read from /proc.
      if (cur.cpu_ns === null && cur.control_group && cur.active_state === 'active')
        cur.cpu_ns = await cgroupCpuNs(cur.control_group);
      cur.usageAt = now;
    }),
  );
}

/** Properties of a loaded unit's service (how its main process ended, for one), in one call each. */
export async function serviceProperties(
  call: Call,
  state: Map<string, Tracked>,
  unit: string,
  names: string[],
): Promise<Map<string, unknown>> {
  if (state.get(unit)?.load_state !== 'loaded') return new Map<string, unknown>();
  const values = await Promise.all(names.map((n) => getServiceProperty(call, unit, n)));
  return new Map(names.map((n, i) => [n, values[i]]));
}
