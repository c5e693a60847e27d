import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import type { Deployment } from './types.js';
import { api } from './api.js';

/** A small line chart; fixed size so live data never shifts the layout. */
export function Sparkline({ values, width = 120, height = 28, label, max }: { values: Array<number | null>; width?: number; height?: number; label: string; max?: number }) {
  const pts = values.map((v, i) => [i, v] as const).filter((p): p is readonly [number, number] => p[1] !== null);
  const top = max ?? Math.max(1, ...pts.map((p) => p[1]));
  const x = (i: number) => (values.length <= 1 ? width : (i / (values.length - 1)) * width);
  const y = (v: number) => height - 2 - (v / top) * (height - 4);
  const d = pts.map(([i, v], k) => `${k ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  return (
    <svg class="spark" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      {d ? <path d={d} fill="none" stroke="currentColor" stroke-width="1.5" /> : <line x1="0" x2={width} y1={height - 2} y2={height - 2} stroke="currentColor" stroke-opacity="0.2" />}
    </svg>
  );
}

/** A bigger chart with a title and the latest value. */
export function Chart({ title, values, format }: { title: string; values: Array<number | null>; format: (v: number) => string }) {
  const last = [...values].reverse().find((v) => v !== null) ?? null;
  return (
    <figure class="chart">
      <figcaption>{title}: <strong>{last === null ? '—' : format(last)}</strong></figcaption>
      <Sparkline values={values} width={320} height={80} label={title} />
    </figure>
  );
}

const STATE_CLASS: Record<string, string> = {
  running: 'ok', healthy: 'ok', success: 'ok', ready: 'ok',
  starting: 'busy', stopping: 'busy', creating: 'busy', deleting: 'busy', running_: 'busy', pending: 'busy',
  failed: 'bad', unhealthy: 'bad', rolled_back: 'warn', cancelled: 'warn', stopped: 'off', unknown: 'off',
};
export const Badge = ({ value }: { value: string }) => <span class={`badge ${STATE_CLASS[value] ?? 'off'}`}>{value.replace('_', ' ')}</span>;

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : null;
  return (
    <div class="error" role="alert">
      <strong>{e?.code ?? 'Error'}</strong>: {(error as Error).message}
      {e?.fields.length ? <ul>{e.fields.map((f) => <li key={f.field}><code>{f.field}</code>: {f.message}</li>)}</ul> : null}
    </div>
  );
}

export const Empty = ({ children }: { children: ComponentChildren }) => <p class="empty">{children}</p>;

/** Loads data and reloads it on demand; shows nothing but a steady frame while loading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): { data: T | null; error: unknown; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    load().then((d) => { if (live) { setData(d); setError(null); } }, (e: unknown) => { if (live) setError(e); });
    return () => { live = false; };
  }, [...deps, n]);
  return { data, error, reload: () => setN((x) => x + 1) };
}

/** A deployment followed step by step until it ends, with a progress bar. */
export function DeploymentProgress({ id, onEnd }: { id: number; onEnd?: (d: Deployment) => void }) {
  const [d, setD] = useState<Deployment | null>(null);
  const ended = useRef(false);
  useEffect(() => {
    let live = true;
    const tick = async () => {
      try {
        const next = await api<Deployment>('GET', `/api/deployments/${id}`);
        if (!live) return;
        setD(next);
        if (!['queued', 'pending', 'running'].includes(next.status)) {
          if (!ended.current) { ended.current = true; onEnd?.(next); }
          return;
        }
      } catch { /* keep polling */ }
      if (live) setTimeout(tick, 300);
    };
    void tick();
    return () => { live = false; };
  }, [id]);
  if (!d) return <p class="muted">Starting deployment {id}…</p>;
  const total = d.steps.length || 1;
  const done = d.steps.filter((s) => s.status !== 'pending' && s.status !== 'running').length;
  return (
    <section class="deployment" aria-live="polite">
      <div class="row"><strong>{d.kind} #{d.id}</strong> <Badge value={d.status} /></div>
      <progress max={total} value={done} aria-label={`${done} of ${total} steps`} />
      <ol class="steps">
        {d.steps.map((s) => (
          <li key={s.position} class={`step ${s.status}`}>
            <span class="step-name">{s.name.replace(/_/g, ' ')}</span> <Badge value={s.status} />
            {s.message ? <div class="step-msg">{s.message}</div> : null}
          </li>
        ))}
      </ol>
      {d.error ? <div class="error" role="alert">{d.error}</div> : null}
    </section>
  );
}
