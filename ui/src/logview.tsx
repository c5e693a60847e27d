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

  useEffect(() => {
    const ctrl = new AbortController();
    setLines([]);
    void api<{ entries: LogEntry[] }>('GET', `/api/apps/${encodeURIComponent(app)}/logs?lines=1000`).then((r) => setLines(r.entries), () => undefined);
    if (follow) {
      // New lines arrive in bursts; they are applied once per frame.
      const flush = setInterval(() => {
        if (pending.current.length === 0) return;
        const add = pending.current;
        pending.current = [];
        setLines((old) => { const next = old.concat(add); return next.length > MAX_LINES ? next.slice(next.length - MAX_LINES) : next; });
      }, 100);
      void stream(`/api/apps/${encodeURIComponent(app)}/logs?follow=1&lines=1`, (e) => { if (e.event === 'log') pending.current.push(e.data as LogEntry); }, ctrl.signal);
      return () => { ctrl.abort(); clearInterval(flush); };
    }
    return () => ctrl.abort();
  }, [app, follow]);

  const shown = useMemo(() => {
    const min = LEVELS.indexOf(level as typeof LEVELS[number]);
    const needle = q.toLowerCase();
    return lines.filter((l) => LEVELS.indexOf(l.level) >= min && (!needle || l.message.toLowerCase().includes(needle)));
  }, [lines, level, q]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    setHeight(el.clientHeight);
    if (follow) el.scrollTop = el.scrollHeight;
  }, [shown.length, follow]);

  const first = Math.max(0, Math.floor(scrollTop / ROW) - 20);
  const last = Math.min(shown.length, Math.ceil((scrollTop + height) / ROW) + 20);
  return (
    <section class="logs">
      <div class="toolbar">
        <label>Level <select value={level} onChange={(e) => setLevel(e.currentTarget.value)} aria-label="Minimum level">
          {LEVELS.map((l) => <option key={l} value={l}>{l}</option>)}
        </select></label>
        <label>Search <input type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} placeholder="text in the message" /></label>
        <label class="check"><input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow</label>
        <span class="muted" data-testid="log-count">{shown.length} of {lines.length} lines</span>
      </div>
      <div class="logbox" ref={box} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)} role="log" aria-label={`Logs of ${app}`} tabIndex={0}>
        <div style={{ height: `${shown.length * ROW}px`, position: 'relative' }}>
          {shown.slice(first, last).map((l, i) => (
            <div key={first + i} class={`logline lvl-${l.level}`} style={{ top: `${(first + i) * ROW}px` }}>
              <time>{l.timestamp.slice(11, 23)}</time> <b>{l.level}</b> {l.message}
            </div>
          ))}
        </div>
      </div>
    </section>
  );
}
