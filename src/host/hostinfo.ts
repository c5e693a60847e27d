import { statfs } from 'node:fs/promises';
import os from 'node:os';
import si from 'systeminformation';

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

/**
 * The host's load, CPU, memory and uptime from systeminformation (which reads
 * /proc, no process started), and the disk holding `dataDir` from statfs.
 */
export function createHostInfo(dataDir: string) {
  return {
    async sample(): Promise<HostSample> {
      const [load, mem, fs] = await Promise.all([si.currentLoad(), si.mem(), statfs(dataDir)]);
      const [load1 = 0, load5 = 0, load15 = 0] = os.loadavg();
      return {
        load1,
        load5,
        load15,
        cpu_percent: Math.round(load.currentLoad * 10) / 10,
        cpus: load.cpus.length || os.cpus().length,
        memory_total: mem.total,
        memory_available: mem.available,
        disk_total: fs.blocks * fs.bsize,
        disk_free: fs.bavail * fs.bsize,
        uptime_seconds: Math.round(si.time().uptime),
      };
    },
  };
}

export type HostInfo = ReturnType<typeof createHostInfo>;
