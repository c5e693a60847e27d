import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, stream } from './api.js';
import type { LogEntry } from './types.js';

const ROW = 20;
const MAX_LINES = 100_000;
const LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;

/**
 * An app's journal: a bounded buffer (the newest 100 000 lines) drawn as a
 * virtual list, so only the rows in view are in the DOM however long it grows.
 */
export function LogView({ app }: { app: string }) {
  const [lines, setLines] = useState<LogEntry[]>([]);
  const [follow, setFollow] = useState(true);
  const [level, setLevel] = useState<string>('debug');
  const [q, setQ] = useState('');
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(400);
  const box = useRef<HTMLDivElement>(null);
  const pending = useRef<LogEntry[]>([]);
  // Following pauses while the reader is scrolled up, and says so; it resumes at the bottom.
  const [reading, setReading] = useState(false);
  const [unread, setUnread] = useState(0);
  const [range, setRange] = useState('1h');
  const [dlError, setDlError] = useState<string | null>(null);

  useEffect(() => {
    const ctrl = new AbortController();
    setLines([]);
    void api<{ entries: LogEntry[] }>('GET', `/api/apps/${encodeURIComponent(app)}/logs?lines=1000`).then(
      (r) => setLines(r.entries),
      () => undefined,
    );
    if (follow) {
      // New lines arrive in bursts; they are applied once per frame.
      const flush = setInterval(() => {
        if (pending.current.length === 0) return;
        const add = pending.current;
        pending.current = [];
        setLines((old) => {
          const next = old.concat(add);
          return next.length > MAX_LINES ? next.slice(next.length - MAX_LINES) : next;
        });
      }, 100);
      void stream(
        `/api/apps/${encodeURIComponent(app)}/logs?follow=1&lines=1`,
        (e) => {
          if (e.event === 'log') pending.current.push(e.data as LogEntry);
        },
        ctrl.signal,
      );
      return () => {
        ctrl.abort();
        clearInterval(flush);
      };
    }
    return () => ctrl.abort();
  }, [app, follow]);

  const shown = useMemo(() => {
    const min = LEVELS.indexOf(level as (typeof LEVELS)[number]);
    const needle = q.toLowerCase();
    return lines.filter((l) => LEVELS.indexOf(l.level) >= min && (!needle || l.message.toLowerCase().includes(needle)));
  }, [lines, level, q]);

  const seen = useRef(0);
  // Whether the reader scrolled away, known at once (not at the next render): new lines arriving in
  // the same moment must not scroll back down over the reader's own scroll.
  const readingNow = useRef(false);
  // Where pocketd itself last scrolled to; a scroll event there is its own, not the reader's.
  const ownScroll = useRef(-1);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    setHeight(el.clientHeight);
    if (follow && !readingNow.current) {
      el.scrollTop = el.scrollHeight;
      ownScroll.current = el.scrollTop;
      seen.current = shown.length;
      setUnread(0);
    } else setUnread(Math.max(0, shown.length - seen.current));
  }, [shown.length, follow, reading]);
  const onScroll = (el: HTMLDivElement) => {
    setScrollTop(el.scrollTop);
    if (el.scrollTop === ownScroll.current) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < ROW * 2;
    readingNow.current = !atBottom;
    if (atBottom !== !reading) setReading(!atBottom);
  };
  const jump = () => {
    const el = box.current;
    readingNow.current = false;
    if (el) {
      el.scrollTop = el.scrollHeight;
      ownScroll.current = el.scrollTop;
    }
    setReading(false);
  };
  const download = async (format: 'text' | 'ndjson') => {
    setDlError(null);
    try {
      const r = await api<{ entries: LogEntry[] }>(
        'GET',
        `/api/apps/${encodeURIComponent(app)}/logs?lines=10000&since=${encodeURIComponent(RANGES[range]!.since)}`,
      );
      const body =
        format === 'ndjson'
          ? r.entries.map((e) => JSON.stringify(e)).join('\n') + '\n'
          : r.entries
              .map((e) => `${stamp(e.timestamp)} ${e.level.toUpperCase()} ${messageOf(e.message, e.level)}`)
              .join('\n') + '\n';
      const a = document.createElement('a');
      a.href = URL.createObjectURL(
        new Blob([body], { type: format === 'ndjson' ? 'application/x-ndjson' : 'text/plain' }),
      );
      a.download = `${app}-logs-${range}.${format === 'ndjson' ? 'ndjson' : 'log'}`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (e) {
      setDlError((e as Error).message);
    }
  };

  const first = Math.max(0, Math.floor(scrollTop / ROW) - 20);
  const last = Math.min(shown.length, Math.ceil((scrollTop + height) / ROW) + 20);
  return (
    <section class="logs">
      <div class="toolbar">
        <label>
          Level{' '}
          <select value={level} onChange={(e) => setLevel(e.currentTarget.value)} aria-label="Minimum level">
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search{' '}
          <input
            type="search"
            value={q}
            onInput={(e) => setQ(e.currentTarget.value)}
            placeholder="text in the message"
          />
        </label>
        <label class="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow
        </label>
        <span class="muted" data-testid="log-count">
          {shown.length} of {lines.length} lines
        </span>
        <span class="download">
          <label>
            Download{' '}
            <select value={range} onChange={(e) => setRange(e.currentTarget.value)} aria-label="Time range to download">
              {Object.entries(RANGES).map(([k, v]) => (
                <option key={k} value={k}>
                  {v.label}
                </option>
              ))}
            </select>
          </label>
          <button class="small" onClick={() => void download('text')}>
            Text
          </button>
          <button class="small" onClick={() => void download('ndjson')}>
            NDJSON
          </button>
        </span>
      </div>
      {follow && reading ? (
        <p class="paused" role="status">
          Following is paused while you read{unread ? ` (${unread} new line${unread === 1 ? '' : 's'})` : ''}.{' '}
          <button class="small" onClick={jump}>
            Jump to newest
          </button>
        </p>
      ) : null}
      {dlError ? (
        <p class="error" role="alert">
          {dlError}
        </p>
      ) : null}
      <div
        class="logbox"
        ref={box}
        onScroll={(e) => onScroll(e.currentTarget)}
        role="log"
        aria-label={`Logs of ${app}`}
        tabIndex={0}
      >
        <div style={{ height: `${shown.length * ROW}px`, position: 'relative' }}>
          {shown.slice(first, last).map((l, i) => (
            <div key={first + i} class={`logline lvl-${l.level}`} style={{ top: `${(first + i) * ROW}px` }}>
              <time dateTime={l.timestamp}>{stamp(l.timestamp)}</time> <b>{l.level}</b> {messageOf(l.message, l.level)}
            </div>
          ))}
        </div>
      </div>
    </section>
  );
}

const RANGES: Record<string, { label: string; since: string }> = {
  '15min': { label: 'last 15 min', since: '15 min ago' },
  '1h': { label: 'last hour', since: '1 h ago' },
  '24h': { label: 'last 24 h', since: '24 h ago' },
  '7d': { label: 'last 7 days', since: '7 days ago' },
};

/** The journal's time, with the date, in the reader's time zone: 2026-11-23 14:03:07. */
function stamp(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** PocketBase starts its lines with its own time (and level): one timestamp and one level a line are enough. */
function messageOf(m: string, level: string): string {
  const rest = m.replace(/^\d{4}[-/]\d{2}[-/]\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?Z?\s+/, '');
  const word = /^([A-Za-z]+)\s+/.exec(rest);
  return word && word[1]!.toLowerCase().startsWith(level.slice(0, 3)) ? rest.slice(word[0].length) : rest;
}
