import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, stream } from '../api.js';
import { Badge, ErrorNote, useLoad } from '../components.js';
import { LogView } from '../logview.js';
import type { AppDetail, Deployment } from '../types.js';
import { Backups } from './app-backups.js';
import { Deploy, Deployments } from './app-deploy.js';
import { EnvEditor } from './app-env.js';
import { Overview } from './app-overview.js';
import { Settings } from './app-settings.js';

const TABS = ['overview', 'logs', 'deployments', 'deploy', 'backups', 'env', 'settings'] as const;

/** One app: every tab of what can be seen and done with it. */
export function AppPage({ name, tab }: { name: string; tab: string }) {
  const { data: app, error, reload } = useLoad(() => api<AppDetail>('GET', `/api/apps/${name}`), [name]);

  const queue = useLoad(() => loadQueue(name), [name]);
  // Health changes reach the overview as they happen.
  const [healthSeen, setHealthSeen] = useState(0);
  useEffect(() => {
    const ctrl = new AbortController();
    void stream(
      `/api/events?app=${name}`,
      (e) => {
        if (e.event === 'app.health' || e.event === 'app.state') setHealthSeen((n) => n + 1);
        if (e.event.startsWith('app.') || e.event === 'deployment.finished') reload();
        if (['deployment.queued', 'deployment.started', 'deployment.finished'].includes(e.event)) queue.reload();
      },
      ctrl.signal,
    );
    return () => ctrl.abort();
  }, [name]);
  const current = (TABS as readonly string[]).includes(tab) ? tab : 'overview';
  if (!app && error instanceof ApiError && (error.status === 404 || error.status === 403)) {
    return (
      <main>
        <h1>{name}</h1>
        <div class="panel" role="alert">
          <p>
            {error.status === 404
              ? `There is no app named ${name} (it may have been deleted).`
              : `This token may not see ${name}: ${error.message}`}
          </p>
          <a class="button" href="#/apps">
            Back to the apps
          </a>
        </div>
      </main>
    );
  }
  return (
    <main>
      <div class="row spread">
        <h1>
          {name} {app ? <Badge value={app.state} /> : null}
        </h1>
        {app ? <Controls app={app} queue={queue.data ?? []} onDone={reload} /> : null}
      </div>
      {app ? <AdminLink app={app} /> : null}
      <ErrorNote error={error} />
      <Queue items={queue.data ?? []} onChange={queue.reload} />
      <nav class="tabs" aria-label="App sections">
        {TABS.map((t) => (
          <a key={t} href={`#/apps/${name}/${t}`} aria-current={t === current ? 'page' : undefined}>
            {t}
          </a>
        ))}
      </nav>
      {!app ? (
        error ? null : (
          <p class="muted">Loading…</p>
        )
      ) : current === 'overview' ? (
        <Overview app={app} changes={healthSeen} />
      ) : current === 'logs' ? (
        <LogView app={name} />
      ) : current === 'deployments' ? (
        <Deployments app={name} />
      ) : current === 'deploy' ? (
        <Deploy app={app} onDone={reload} />
      ) : current === 'backups' ? (
        <Backups app={name} />
      ) : current === 'env' ? (
        <EnvEditor app={name} />
      ) : (
        <Settings app={app} onDone={reload} />
      )}
    </main>
  );
}

/** What runs for the app now and what waits behind it, oldest first. */
async function loadQueue(name: string): Promise<Deployment[]> {
  const [active, waiting] = await Promise.all([
    api<{ deployments: Deployment[] }>('GET', `/api/deployments?app=${name}&status=running&limit=5`),
    api<{ deployments: Deployment[] }>('GET', `/api/deployments?app=${name}&status=queued&limit=100`),
  ]);
  return [...active.deployments, ...waiting.deployments.reverse()];
}

/** The app's queue: what runs now, what waits, each waiting one with Cancel. */
function Queue({ items, onChange }: { items: Deployment[]; onChange: () => void }) {
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

/** PocketBase's own admin, where people expect it: /_/ on the app's first domain. */
function AdminLink({ app }: { app: AppDetail }) {
  const domain = app.domains[0];
  if (!domain) return <p class="muted">PocketBase admin: give the app a domain to reach /_/ from a browser.</p>;
  return (
    <p>
      <a href={`https://${domain}/_/`} target="_blank" rel="noopener noreferrer">
        Open PocketBase admin ({domain}/_/)
      </a>
    </p>
  );
}

function Controls({ app, queue, onDone }: { app: AppDetail; queue: Deployment[]; onDone: () => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
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
  // What would only queue a duplicate or do nothing is off: the same operation already waits, or the app is already so.
  const pending = new Set(queue.map((d) => d.kind));
  const last = queue.length ? queue[queue.length - 1]!.kind : null;
  const willRun =
    last === null ? app.state === 'running' || app.state === 'starting' : ['start', 'restart', 'create'].includes(last);
  const useless = (a: Deployment['kind']) =>
    pending.has(a) ||
    (a === 'start' && willRun) ||
    (a === 'stop' && !willRun && last !== null) ||
    (a === 'stop' && last === null && app.state === 'stopped');
  return (
    <div class="controls-wrap">
      <div class="controls">
        {(['start', 'stop', 'restart'] as const).map((a) => (
          <button
            key={a}
            disabled={busy !== null || !['ready', 'creating'].includes(app.status) || useless(a)}
            onClick={() => void act(a)}
          >
            {busy === a ? `${a}ing…` : a}
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
