import { z } from 'zod';
import { exec, spawnLines } from '../shared/exec.js';
import { singleFlight } from '../shared/single-flight.js';
import { maskInstallerToken } from '../shared/pocketbase/versions.js';

export interface LogEntry {
  timestamp: string;
  priority: number;
  level: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  message: string;
  pid: number | null;
}

export interface LogQuery {
  lines: number;
  since?: string;
  until?: string;
  /** syslog priority 0-7: this and more severe. */
  priority?: number;
  /** Case-insensitive substring of the message. */
  q?: string;
}

const Raw = z.object({
  __REALTIME_TIMESTAMP: z.string(),
  PRIORITY: z.string().optional(),
  MESSAGE: z.union([z.string(), z.array(z.number()), z.null()]).optional(),
  _PID: z.string().optional(),
});

const LEVEL_WORD = /^(?:\S+\s+\S+\s+)?\[?(DEBUG|INFO|WARN|WARNING|ERROR|FATAL|PANIC)\]?\b/i;
// PocketBase writes stdout and stderr alike (the journal gives both one priority) and its lines carry no level
// word; these are the shapes of its failures, after Go's optional `2006/01/02 15:04:05 ` prefix: the command
// line's fatal `Error: ...`, a hook file that did not load (`Failed to execute x.pb.js:` and its ` - SyntaxError`
// lines), and Go's panics.
const GO_STAMP = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? /;
const PB_ERROR = /^(?:Error: |failed to execute \S+:| - \w*Error: )/i;
const GO_FATAL = /^(?:panic: |fatal error: )/;
const fromPriority = (p: number): LogEntry['level'] =>
  p <= 2 ? 'fatal' : p === 3 ? 'error' : p === 4 ? 'warn' : p === 7 ? 'debug' : 'info';

/** One journal JSON line as an entry; PocketBase's own level word in the message wins over the priority. */
export function parseJournalLine(line: string): LogEntry | null {
  let raw: z.infer<typeof Raw>;
  try {
    raw = Raw.parse(JSON.parse(line));
  } catch {
    return null;
  }
  // A superuser-installer token PocketBase 0.23+ prints at start never leaves the journal.
  const message = maskInstallerToken(
    Array.isArray(raw.MESSAGE) ? Buffer.from(raw.MESSAGE).toString('utf8') : (raw.MESSAGE ?? ''),
  );
  const priority = Number(raw.PRIORITY ?? 6);
  const text = message.replace(GO_STAMP, '');
  const word = LEVEL_WORD.exec(message)?.[1]?.toUpperCase();
  const level: LogEntry['level'] = GO_FATAL.test(text)
    ? 'fatal'
    : PB_ERROR.test(text)
      ? 'error'
      : word === undefined
        ? fromPriority(priority)
        : word === 'WARNING'
          ? 'warn'
          : word === 'PANIC'
            ? 'fatal'
            : (word.toLowerCase() as LogEntry['level']);
  return {
    timestamp: new Date(Number(BigInt(raw.__REALTIME_TIMESTAMP) / 1000n)).toISOString(),
    priority,
    level,
    message: message.length > 16_384 ? `${message.slice(0, 16_384)}…` : message,
    pid: raw._PID ? Number(raw._PID) : null,
  };
}

/** Journal reads, without privilege (the daemon's user is in systemd-journal). */
export function createJournal() {
  // Identical reads under way at once share one journalctl.
  const reads = singleFlight<LogEntry[]>();
  return {
    /** The last `lines` messages of a unit, as plain text, for error reports. */
    async tail(unit: string, lines: number): Promise<string[]> {
      const r = await exec('journalctl', ['-u', unit, '-n', String(lines), '-o', 'cat', '--no-pager', '-q'], {
        allowFailure: true,
        timeoutMs: 10_000,
      });
      return r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => maskInstallerToken(l).slice(0, 500));
    },
    /** Entries of one unit, oldest first, at most `lines`. */
    read(unit: string, q: LogQuery): Promise<LogEntry[]> {
      return reads(JSON.stringify([unit, q]), () => readNow(unit, q));
    },
    /** New entries as they arrive; `stop()` ends the journalctl process. */
    follow(unit: string, onEntry: (e: LogEntry) => void, onEnd: () => void) {
      return spawnLines(
        'journalctl',
        [
          '-u',
          unit,
          '-o',
          'json',
          '--all',
          '-f',
          '-n',
          '0',
          '--no-pager',
          '-q',
          '--output-fields=MESSAGE,PRIORITY,_PID',
        ],
        (line) => {
          const e = parseJournalLine(line);
          if (e) onEntry(e);
        },
        onEnd,
      );
    },
    async readable(): Promise<boolean> {
      const r = await exec('journalctl', ['-n', '1', '-o', 'cat', '--no-pager', '-q'], {
        allowFailure: true,
        timeoutMs: 10_000,
      });
      return r.code === 0;
    },
  };
}

/** Entries of one unit, oldest first, at most `lines`. */
async function readNow(unit: string, q: LogQuery): Promise<LogEntry[]> {
  // --all: without it journalctl prints null for any field over 4 KiB.
  const args = ['-u', unit, '-o', 'json', '--all', '--no-pager', '-q', '--output-fields=MESSAGE,PRIORITY,_PID'];
  if (q.since) args.push(`--since=${q.since}`);
  if (q.until) args.push(`--until=${q.until}`);
  if (q.priority !== undefined) args.push(`--priority=0..${q.priority}`);
  // journalctl searches the whole journal of the unit; the needle is a literal, so every regex character is escaped.
  if (q.q) args.push(`--grep=${q.q.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&')}`, '--case-sensitive=false');
  // Newest first, then turned around: journalctl 252 prints --grep matches newest first even without --reverse.
  args.push('-n', String(q.lines), '--reverse');
  // Streamed and cut entry by entry, so a journal of very long lines costs at most lines x 16 KiB here.
  let entries = await new Promise<LogEntry[]>((resolve) => {
    const out: LogEntry[] = [];
    const reader = spawnLines(
      'journalctl',
      args,
      (line) => {
        const e = parseJournalLine(line);
        if (e) out.push(e);
      },
      () => {
        clearTimeout(timer);
        resolve(out);
      },
    );
    const timer = setTimeout(() => reader.stop(), 30_000);
  });
  entries = entries.reverse();
  if (q.q) {
    const needle = q.q.toLowerCase();
    entries = entries.filter((e) => e.message.toLowerCase().includes(needle));
  }
  return entries.slice(-q.lines);
}

export type Journal = ReturnType<typeof createJournal>;
