import type { Journal, LogEntry } from '../../host/journal.js';

/**
 * Why a process that was just started is not healthy, from its own log lines only: the lines of the unit
 * since `sinceMs` (when the new process was started; the old one had stopped before), the first error
 * among them, else its last line. Never a join of two processes' logs.
 *
 * @example await startFailure(journal, 'pb-shop.service', startedAt) // "first error (pid 812): Error: ..."
 */
export async function startFailure(journal: Pick<Journal, 'read'>, unit: string, sinceMs: number): Promise<string> {
  const entries = await journal
    .read(unit, { lines: 200, since: `@${Math.floor(sinceMs / 1000)}` })
    .catch(() => [] as LogEntry[]);
  return describeStartFailure(entries, sinceMs);
}

/** The pure part of `startFailure`, for entries already read. */
export function describeStartFailure(entries: LogEntry[], sinceMs: number): string {
  // journalctl's --since has a resolution of a second: lines of the second before the start are dropped here.
  const mine = entries.filter((e) => Date.parse(e.timestamp) >= sinceMs && e.message.trim() !== '');
  // systemd's own lines about the unit (pid 1) say how it ended, not why: the app's lines come first.
  const app = mine.filter((e) => e.pid !== 1);
  const first = app.find((e) => e.level === 'error' || e.level === 'fatal');
  const clip = (m: string) => (m.length > 500 ? `${m.slice(0, 500)}…` : m);
  if (first) return `first error of the new process${first.pid ? ` (pid ${first.pid})` : ''}: ${clip(first.message)}`;
  const last = app.at(-1) ?? mine.at(-1);
  if (last) return `the new process logged no error; its last line: ${clip(last.message)}`;
  return 'the new process logged nothing';
}
