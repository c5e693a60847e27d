import { exec } from './exec.js';

/** Journal reads, without privilege (the daemon's user is in systemd-journal). */
export function createJournal() {
  return {
    /** The last `lines` messages of a unit, as plain text, for error reports. */
    async tail(unit: string, lines: number): Promise<string[]> {
      const r = await exec('journalctl', ['-u', unit, '-n', String(lines), '-o', 'cat', '--no-pager', '-q'], { allowFailure: true, timeoutMs: 10_000 });
      return r.stdout.split('\n').filter(Boolean).map((l) => l.slice(0, 500));
    },
    async readable(): Promise<boolean> {
      const r = await exec('journalctl', ['-n', '1', '-o', 'cat', '--no-pager', '-q'], { allowFailure: true, timeoutMs: 10_000 });
      return r.code === 0;
    },
  };
}

export type Journal = ReturnType<typeof createJournal>;
