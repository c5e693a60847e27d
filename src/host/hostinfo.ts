import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';

export interface HostSample {
  load1: number;
  load5: number;
  load15: number;
  cpu_percent: number;
  cpus: number;
  memory_total: number;
  memory_available: number;
  disk_total: number;
  disk_free: number;
  uptime_seconds: number;
}

/** CPU time counters of /proc/stat's first line: all of it, and the idle part (idle + iowait). */
async function cpuTimes(): Promise<{ total: number; idle: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return { total, idle: (f[3] ?? 0) + (f[4] ?? 0) };
}

/** MemAvailable of /proc/meminfo in bytes (the kernel's own estimate), or free memory when it is missing. */
async function memAvailable(): Promise<number> {
  const m = /^MemAvailable:\s+(\d+)\s+kB/m.exec(await readFile('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : os.freemem();
}

/**
 * The host's load, CPU, memory and uptime read from /proc (no process started, no library: what
 * systeminformation read for these, without its 4-6 MiB in the daemon), and the disk holding
 * `dataDir` from statfs. CPU use is the busy share of the time since the previous sample (since
 * boot for the first one).
 */
export function createHostInfo(dataDir: string) {
  let last = { total: 0, idle: 0 };
  return {
    async sample(): Promise<HostSample> {
      const [now, available, fs] = await Promise.all([cpuTimes(), memAvailable(), statfs(dataDir)]);
      const total = now.total - last.total;
      const busy = total > 0 ? 1 - (now.idle - last.idle) / total : 0;
      last = now;
      const [load1 = 0, load5 = 0, load15 = 0] = os.loadavg();
      return {
        load1,
        load5,
        load15,
        cpu_percent: Math.round(Math.min(1, Math.max(0, busy)) * 1000) / 10,
        cpus: os.cpus().length,
        memory_total: os.totalmem(),
        memory_available: available,
        disk_total: fs.blocks * fs.bsize,
        disk_free: fs.bavail * fs.bsize,
        uptime_seconds: Math.round(os.uptime()),
      };
    },
  };
}

export type HostInfo = ReturnType<typeof createHostInfo>;
