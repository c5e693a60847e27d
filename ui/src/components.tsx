import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, stream } from './api.js';
import type { Deployment, Release } from './types.js';

/** A small line chart; fixed size so live data never shifts the layout. */
export function Sparkline({
  values,
  width = 120,
  height = 28,
  label,
  max,
}: {
  values: Array<number | null>;
  width?: number;
  height?: number;
  label: string;
  max?: number;
}) {
  const pts = values.map((v, i) => [i, v] as const).filter((p): p is readonly [number, number] => p[1] !== null);
  const top = max ?? Math.max(1, ...pts.map((p) => p[1]));
  const x = (i: number) => (values.length <= 1 ? width : (i / (values.length - 1)) * width);
  const y = (v: number) => height - 2 - (v / top) * (height - 4);
  const d = pts.map(([i, v], k) => `${k ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  return (
    <svg class="spark" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      {d ? (
        <path d={d} fill="none" stroke="currentColor" stroke-width="1.5" />
      ) : (
        <line x1="0" x2={width} y1={height - 2} y2={height - 2} stroke="currentColor" stroke-opacity="0.2" />
      )}
    </svg>
  );
}

const STATE_CLASS: Record<string, string> = {
  running: 'ok',
  healthy: 'ok',
  success: 'ok',
  ready: 'ok',
  'in sync': 'ok',
  ok: 'ok',
  starting: 'busy',
  stopping: 'busy',
  creating: 'busy',
  deleting: 'busy',
  pending: 'busy',
  queued: 'busy',
  failed: 'bad',
  unhealthy: 'bad',
  open: 'bad',
  resolved: 'ok',
  sent: 'ok',
  rolled_back: 'warn',
  cancelled: 'warn',
  stopped: 'off',
  sleeping: 'sleep',
  unknown: 'off',
};
export const Badge = ({ value }: { value: string }) => (
  <span class={`badge ${STATE_CLASS[value] ?? 'off'}`}>{value.replace('_', ' ')}</span>
);

/** An error once: the fields when the API named them (the message only when it says more), else the message. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : null;
  const message = (error as Error).message;
  const fields = e?.fields ?? [];
  const saysMore = fields.length === 0 || !fields.some((f) => message.includes(f.message));
  return (
    <div class="error" role="alert">
      <strong>{e ? e.code.replace(/_/g, ' ').toLowerCase() : 'error'}</strong>
      {saysMore ? `: ${message}` : ''}
      {fields.length ? (
        <ul>
          {fields.map((f) => (
            <li key={f.field}>
              <code>{f.field}</code>: {f.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export { ConfirmButton } from './confirm.js';

export const Empty = ({ children }: { children: ComponentChildren }) => <p class="empty">{children}</p>;

/** Loads data and reloads it on demand; shows nothing but a steady frame while loading. */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[] = [],
  identity?: string,
): { data: T | null; error: unknown; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  // What was loaded for something else (another app) is not shown while the new one loads;
  // `identity` says what that something is when some deps only ask for a fresher copy.
  const key = JSON.stringify(deps);
  const who = identity ?? key;
  const loadedFor = useRef(who);
  useEffect(() => {
    let live = true;
    if (loadedFor.current !== who) {
      loadedFor.current = who;
      setData(null);
      setError(null);
    }
    load().then(
      (d) => {
        if (live) {
          setData(d);
          setError(null);
        }
      },
      (e: unknown) => {
        if (live) setError(e);
      },
    );
    return () => {
      live = false;
    };
  }, [key, n]);
  return { data, error, reload: () => setN((x) => x + 1) };
}

const RUNNING = ['queued', 'pending', 'running'];
/** A step's statuses in the order they come. */
const STEP_ORDER = ['pending', 'running', 'success', 'failed', 'skipped'];

/** A deployment followed step by step until it ends, with a progress bar and Cancel while it runs or waits. */
export function DeploymentProgress({ id, onEnd }: { id: number; onEnd?: (d: Deployment) => void }) {
  const [d, setD] = useState<Deployment | null>(null);
  const [cancelError, setCancelError] = useState<unknown>(null);
  const ended = useRef(false);
  useEffect(() => {
    let live = true;
    const ctrl = new AbortController();
    const read = async (): Promise<Deployment | null> => {
      const next = await api<Deployment>('GET', `/api/deployments/${id}`).catch(() => null);
      if (!live || !next) return null;
      // A read that left before a step's event came back after it: the step keeps what the event said.
      setD((cur) =>
        cur
          ? {
              ...next,
              steps: next.steps.map((st) => {
                const mine = cur.steps.find((c) => c.position === st.position);
                return mine && STEP_ORDER.indexOf(mine.status) > STEP_ORDER.indexOf(st.status) ? mine : st;
              }),
            }
          : next,
      );
      if (!RUNNING.includes(next.status) && !ended.current) {
        ended.current = true;
        ctrl.abort();
        onEnd?.(next);
      }
      return next;
    };
    // Told rather than polling: a step's event is applied as it comes; the deployment is read again only when it
    // starts (its steps exist from then on), when it ends, and at each (re)connect (to catch up with what passed).
    const apply = (e: { event: string; data: unknown }) => {
      const ev = (e.data as { data?: Record<string, unknown> } | null)?.data;
      if (ev?.deployment_id !== id) return;
      if (e.event !== 'deployment.step') return void read();
      const {
        position,
        deployment_id: _id,
        ...patch
      } = ev as { position: number; deployment_id: number } & Partial<Deployment['steps'][number]>;
      setD((cur) =>
        cur && cur.steps[position]
          ? { ...cur, steps: cur.steps.map((st) => (st.position === position ? { ...st, ...patch } : st)) }
          : cur,
      );
    };
    void read().then((first) => {
      if (!first || !RUNNING.includes(first.status)) return;
      void stream(`/api/events?app=${first.app}`, apply, ctrl.signal, true, () => void read());
    });
    return () => {
      live = false;
      ctrl.abort();
    };
  }, [id]);
  if (!d) return <p class="muted">Starting deployment {id}…</p>;
  const total = d.steps.length || 1;
  const done = d.steps.filter((s) => s.status !== 'pending' && s.status !== 'running').length;
  const live = ['queued', 'pending', 'running'].includes(d.status);
  const cancel = async () => {
    setCancelError(null);
    try {
      await api('POST', `/api/deployments/${d.id}/cancel`);
    } catch (e) {
      setCancelError(e);
    }
  };
  return (
    <section class="deployment" aria-live="polite">
      <div class="row">
        <strong>
          {d.kind} #{d.id}
        </strong>{' '}
        <Badge value={d.status} />
        {live ? (
          <button class="small" onClick={() => void cancel()} aria-label={`Cancel ${d.kind} #${d.id}`}>
            Cancel
          </button>
        ) : null}
      </div>
      <ErrorNote error={cancelError} />
      <progress max={total} value={done} aria-label={`${done} of ${total} steps`} />
      <ol class="steps">
        {d.steps.map((s) => (
          <li key={s.position} class={`step ${s.status}`}>
            <span class="step-name">{s.name.replace(/_/g, ' ')}</span> <Badge value={s.status} />
            {s.message ? <div class="step-msg">{s.message}</div> : null}
          </li>
        ))}
      </ol>
      {d.error ? (
        <div class="error" role="alert">
          {d.error}
        </div>
      ) : null}
    </section>
  );
}

/** A table in a focusable, labelled frame that scrolls sideways (or, with `cards`, turns its rows into cards on a phone). */
export function Table({
  label,
  head,
  cards,
  tableClass,
  children,
}: {
  label: string;
  head: string[];
  cards?: boolean;
  tableClass?: string;
  children: ComponentChildren;
}) {
  return (
    <div class={`table-wrap${cards ? ' cards' : ''}`} tabIndex={0} role="region" aria-label={label}>
      <table class={tableClass}>
        <thead>
          <tr>
            {head.map((h, i) => (
              <th key={i}>{h || <span class="sr-only">Actions</span>}</th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A picker's options for PocketBase releases, each saying whether it is the latest or a prerelease. */
export const ReleaseOptions = ({
  releases,
  current,
}: {
  releases: Array<Pick<Release, 'version' | 'latest' | 'prerelease'>>;
  /** The version the app runs now, said so in its option. */
  current?: string;
}) => (
  <>
    {releases.map((r) => (
      <option key={r.version} value={r.version}>
        {r.version}
        {r.version === current ? ' (current)' : ''}
        {r.latest ? ' (latest)' : ''}
        {r.prerelease ? ' (prerelease)' : ''}
      </option>
    ))}
  </>
);
