import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorNote } from '../components.js';
import { busyLabel } from '../labels.js';
import type { AppDetail, Deployment } from '../types.js';

/** Kinds that leave the app running or stopped as it was before them. */
const KEEPS_STATE = new Set(['upgrade', 'deploy', 'rollback', 'restore', 'configure', 'env', 'superuser', 'repair']);

/**
 * Whether the app will be running once its queue is through: the state it was in before the change that
 * runs now (a change stops and starts the app on its way, which is not the app being stopped), then each
 * waiting operation in turn.
 */
export function runsAfterQueue(app: AppDetail, queue: Deployment[], steady: boolean): boolean {
  let run = app.state === 'running' || app.state === 'starting';
  const first = queue[0];
  if (first && first.status === 'running' && KEEPS_STATE.has(first.kind)) {
    const was = (first.params as { was_running?: unknown }).was_running;
    run = typeof was === 'boolean' ? was : steady;
  }
  for (const d of queue) {
    if (['start', 'restart', 'create'].includes(d.kind)) run = true;
    else if (['stop', 'delete'].includes(d.kind)) run = false;
  }
  return run;
}

/** The app's queue: what runs now, what waits, each waiting one with Cancel and a link to its page. */
export function Queue({ items, onChange }: { items: Deployment[]; onChange: () => void }) {
  const [error, setError] = useState<unknown>(null);
  if (items.length === 0) return null;
  const cancel = async (id: number) => {
    setError(null);
    try {
      await api('POST', `/api/deployments/${id}/cancel`);
      onChange();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section class="queue" aria-label="Queue">
      <ol>
        {items.map((d, i) => (
          <li key={d.id} data-testid="queue-item">
            <span class={`badge ${d.status === 'running' ? 'busy' : ''}`}>
              {d.status === 'running' ? 'now' : `#${i}`}
            </span>{' '}
            {d.kind} <a href={`#/deployments/${d.id}`}>#{d.id}</a> <span class="muted">by {d.actor}</span>{' '}
            <button class="small" onClick={() => void cancel(d.id)} aria-label={`Cancel ${d.kind} #${d.id}`}>
              Cancel
            </button>
          </li>
        ))}
      </ol>
      <ErrorNote error={error} />
    </section>
  );
}

/** PocketBase's own admin where people expect it: /_/ on the app's first domain, as Caddy really serves it. */
export function AdminLink({ app }: { app: AppDetail & { admin_url?: string | null } }) {
  const url = app.admin_url;
  if (!url) return <p class="muted">PocketBase admin: give the app a domain to reach /_/ from a browser.</p>;
  return (
    <p>
      <a href={url} target="_blank" rel="noopener noreferrer">
        Open PocketBase admin ({url.replace(/^https?:\/\//, '')})
      </a>
    </p>
  );
}

/** Start, stop, restart: what would do nothing or only queue a duplicate is off. */
export function Controls({ app, queue, onDone }: { app: AppDetail; queue: Deployment[]; onDone: () => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  // Whether the app ran while nothing changed it: what a change in progress returns it to.
  const steady = useRef(app.state === 'running' || app.state === 'starting');
  const changing = queue[0]?.status === 'running' && KEEPS_STATE.has(queue[0].kind);
  if (!changing) steady.current = app.state === 'running' || app.state === 'starting';
  // A message about a deployment in progress is old news once the queue is empty.
  useEffect(() => {
    if (queue.length === 0) {
      setError(null);
      setNote(null);
    }
  }, [queue.length]);
  const act = async (a: string) => {
    setBusy(a);
    setError(null);
    setNote(null);
    try {
      const r = await api<{ position?: number }>('POST', `/api/apps/${app.name}/${a}`);
      if (typeof r.position === 'number')
        setNote(`${a} queued behind ${r.position} operation${r.position === 1 ? '' : 's'}`);
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  const pending = new Set(queue.map((d) => d.kind));
  const willRun = runsAfterQueue(app, queue, steady.current);
  // A sleeping app is neither: it may be started (woken) or stopped (no longer woken by a request).
  const asleep = app.state === 'sleeping' && queue.length === 0;
  const useless = (a: Deployment['kind']) =>
    pending.has(a) || (!asleep && ((a === 'start' && willRun) || (a === 'stop' && !willRun)));
  return (
    <div class="controls-wrap">
      <div class="controls">
        {(['start', 'stop', 'restart'] as const).map((a) => (
          <button
            key={a}
            disabled={busy !== null || !['ready', 'creating'].includes(app.status) || useless(a)}
            onClick={() => void act(a)}
          >
            {busy === a ? busyLabel(a) : a}
          </button>
        ))}
      </div>
      {note ? (
        <p class="muted" role="status">
          {note}
        </p>
      ) : null}
      <ErrorNote error={error} />
    </div>
  );
}
