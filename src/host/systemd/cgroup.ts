import { readFile } from 'node:fs/promises';

/** Linux reports process CPU times in USER_HZ, which is 100 on every architecture it runs on. */
const USER_HZ = 100;
const ROOTS = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup/systemd', '/sys/fs/cgroup'];

async function procsOf(controlGroup: string): Promise<number[]> {
  for (const root of ROOTS) {
    const text = await readFile(`${root}${controlGroup}/cgroup.procs`, 'utf8').catch(() => null);
    if (text !== null)
      return text
        .split('\n')
        .filter(Boolean)
        .map(Number)
        .filter((n) => Number.isInteger(n) && n > 0);
  }
  return [];
}

/** utime + stime of a process (and its waited-for children) from /proc/<pid>/stat, in ns. */
async function cpuOfPid(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (text === null) return 0;
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + (Number(fields[i]) || 0), 0);
  return (ticks * 1e9) / USER_HZ;
}

/**
 * CPU time of a cgroup's live processes, read from files: for hosts where systemd
 * cannot account CPU (cgroup v1 with cpu and cpuacct mounted apart). Time of
 * processes that already exited and were not waited for is not counted.
 */
export async function cgroupCpuNs(controlGroup: string): Promise<number | null> {
  const pids = await procsOf(controlGroup);
  if (pids.length === 0) return null;
  const times = await Promise.all(pids.map(cpuOfPid));
  return Math.round(times.reduce((a, b) => a + b, 0));
}
