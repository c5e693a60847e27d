import { useEffect, useState } from 'preact/hooks';
import { api, bytes, ago, stream } from '../api.js';
import { Badge, Chart, DeploymentProgress, ErrorNote, useLoad } from '../components.js';
import { LogView } from '../logview.js';
import { go } from '../router.js';
import type { AppDetail, AppSample, Deployment } from '../types.js';
import { Backups, Deploy, Deployments } from './app-deploy.js';

const TABS = ['overview', 'logs', 'deployments', 'deploy', 'backups', 'env', 'settings'] as const;

interface Health { state: string; since: string | null; history: Array<{ at: string; state: string; latency_ms: number | null; error: string | null }> }

/** One app: every tab of what can be seen and done with it. */
export function AppPage({ name, tab }: { name: string; tab: string }) {
  const { data: app, error, reload } = useLoad(() => api<AppDetail>('GET', `/api/apps/${name}`), [name]);
  const queue = useLoad(() => loadQueue(name), [name]);
  useEffect(() => {
    const ctrl = new AbortController();
    void stream(`/api/events?app=${name}`, (e) => {
      if (e.event.startsWith('app.') || e.event === 'deployment.finished') reload();
      if (['deployment.queued', 'deployment.started', 'deployment.finished'].includes(e.event)) queue.reload();
    }, ctrl.signal);
    return () => ctrl.abort();
  }, [name]);
  const current = (TABS as readonly string[]).includes(tab) ? tab : 'overview';
  return (
    <main>
      <div class="row spread">
        <h1>{name} {app ? <Badge value={app.state} /> : null}</h1>
        {app ? <Controls app={app} queue={queue.data ?? []} onDone={reload} /> : null}
      </div>
      <ErrorNote error={error} />
      <Queue items={queue.data ?? []} onChange={queue.reload} />
      <nav class="tabs" aria-label="App sections">
        {TABS.map((t) => <a key={t} href={`#/apps/${name}/${t}`} aria-current={t === current ? 'page' : undefined}>{t}</a>)}
      </nav>
      {!app ? <p class="muted">Loading…</p> : current === 'overview' ? <Overview app={app} />
        : current === 'logs' ? <LogView app={name} />
        : current === 'deployments' ? <Deployments app={name} />
        : current === 'deploy' ? <Deploy app={app} onDone={reload} />
        : current === 'backups' ? <Backups app={name} />
        : current === 'env' ? <EnvEditor app={name} />
        : <Settings app={app} onDone={reload} />}
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
    try { await api('POST', `/api/deployments/${id}/cancel`); onChange(); } catch (e) { setError(e); }
  };
  return (
    <section class="queue" aria-label="Queue">
      <ol>
        {items.map((d, i) => (
          <li key={d.id} data-testid="queue-item">
            <span class={`badge ${d.status === 'running' ? 'busy' : ''}`}>{d.status === 'running' ? 'now' : `#${i}`}</span>
            {' '}{d.kind} <a href={`#/deployments/${d.id}`}>#{d.id}</a> <span class="muted">by {d.actor}</span>
            {' '}<button class="small" onClick={() => void cancel(d.id)} aria-label={`Cancel ${d.kind} #${d.id}`}>Cancel</button>
          </li>
        ))}
      </ol>
      <ErrorNote error={error} />
    </section>
  );
}

function Controls({ app, queue, onDone }: { app: AppDetail; queue: Deployment[]; onDone: () => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const act = async (a: string) => {
    setBusy(a); setError(null); setNote(null);
    try {
      const r = await api<{ position?: number }>('POST', `/api/apps/${app.name}/${a}`);
      if (typeof r.position === 'number') setNote(`${a} queued behind ${r.position} operation${r.position === 1 ? '' : 's'}`);
      onDone();
    } catch (e) { setError(e); } finally { setBusy(null); }
  };
  // What would only queue a duplicate is off: the same operation already runs or waits.
  const pending = new Set(queue.map((d) => d.kind));
  const last = queue.length ? queue[queue.length - 1]!.kind : null;
  const useless = (a: string) => pending.has(a) || (last === null && ((a === 'start' && app.state === 'running') || (a === 'stop' && app.state === 'stopped')));
  return (
    <div class="controls">
      {(['start', 'stop', 'restart'] as const).map((a) => (
        <button key={a} disabled={busy !== null || !['ready', 'creating'].includes(app.status) || useless(a)} onClick={() => void act(a)}>
          {busy === a ? `${a}ing…` : a}
        </button>
      ))}
      {note ? <span class="muted" role="status">{note}</span> : null}
      <ErrorNote error={error} />
    </div>
  );
}

function Overview({ app }: { app: AppDetail }) {
  const metrics = useLoad(() => api<{ samples: AppSample[] }>('GET', `/api/apps/${app.name}/metrics?limit=240`), [app.name, app.updated_at]);
  const health = useLoad(() => api<Health>('GET', `/api/apps/${app.name}/health?limit=60`), [app.name, app.updated_at]);
  const s = metrics.data?.samples ?? [];
  return (
    <section class="grid">
      <dl class="facts">
        <dt>Version</dt><dd>{app.version}</dd>
        <dt>Bundle</dt><dd>{app.bundle ?? 'none'}</dd>
        <dt>Port</dt><dd>{app.port}</dd>
        <dt>Domains</dt><dd>{app.domains.join(', ') || 'loopback only'}</dd>
        <dt>Memory</dt><dd>{bytes(app.runtime?.memory_bytes)}{app.memory_max ? ` of ${app.memory_max}` : ''}</dd>
        <dt>Restarts</dt><dd>{app.runtime?.restarts ?? '—'}</dd>
        <dt>Up since</dt><dd>{ago(app.runtime?.active_since)}</dd>
        <dt>Config</dt><dd>{app.config_match.match ? <Badge value="success" /> : <span class="badge bad">drift</span>}</dd>
      </dl>
      <div>
        <Chart title="Memory" values={s.map((x) => x.memory_bytes)} format={bytes} />
        <Chart title="CPU" values={s.map((x) => x.cpu_percent)} format={(v) => `${v}%`} />
      </div>
      <div>
        <h2>Health <Badge value={health.data?.state ?? 'unknown'} /></h2>
        <Chart title="Latency" values={[...(health.data?.history ?? [])].reverse().map((h) => h.latency_ms)} format={(v) => `${v} ms`} />
        <ol class="history">{(health.data?.history ?? []).slice(0, 8).map((h) => <li key={h.at}><Badge value={h.state} /> {ago(h.at)} {h.error ?? ''}</li>)}</ol>
      </div>
    </section>
  );
}

function EnvEditor({ app }: { app: string }) {
  const [rows, setRows] = useState<Array<[string, string]> | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => { void api<{ env: Record<string, string> }>('GET', `/api/apps/${app}/env`).then((r) => setRows(Object.entries(r.env)), setError); }, [app]);
  const save = async (restart: boolean) => {
    setError(null); setResult(null);
    try {
      const r = await api<{ env?: Record<string, string>; changed?: boolean; restart_required?: boolean; restarted?: boolean; position?: number }>('PUT', `/api/apps/${app}/env${restart ? '?restart=1' : ''}`, { env: Object.fromEntries(rows!.filter(([k]) => k)) });
      if (typeof r.position === 'number' || !r.env) { setResult(`Queued behind ${r.position ?? 0} operation(s); it is saved in its turn.`); return; }
      setRows(Object.entries(r.env));
      setResult(!r.changed ? 'Nothing changed.' : r.restarted ? 'Saved; the app was restarted.' : r.restart_required ? 'Saved; restart the app to use it.' : 'Saved.');
    } catch (e) { setError(e); }
  };
  if (!rows) return <ErrorNote error={error} />;
  return (
    <section class="form">
      <p class="muted">Values of secret-looking keys are masked; leave a mask as it is to keep the stored value.</p>
      {rows.map(([k, v], i) => (
        <div class="two" key={i}>
          <label>Key <input value={k} onInput={(e) => setRows(rows.map((r, j) => (j === i ? [e.currentTarget.value, r[1]] : r)))} /></label>
          <label>Value <input value={v} type={v === '********' ? 'password' : 'text'} onInput={(e) => setRows(rows.map((r, j) => (j === i ? [r[0], e.currentTarget.value] : r)))} /></label>
        </div>
      ))}
      <div class="row">
        <button onClick={() => setRows([...rows, ['', '']])}>Add variable</button>
        <button onClick={() => void save(false)}>Save</button>
        <button onClick={() => void save(true)}>Save and restart</button>
      </div>
      {result ? <p role="status">{result}</p> : null}
      <ErrorNote error={error} />
    </section>
  );
}

function Settings({ app, onDone }: { app: AppDetail; onDone: () => void }) {
  const [domains, setDomains] = useState(app.domains.join(', '));
  const [memory, setMemory] = useState(app.memory_max ?? '');
  const [cpu, setCpu] = useState(app.cpu_quota ? String(app.cpu_quota) : '');
  const [schedule, setSchedule] = useState(app.backup_schedule ?? '');
  const [keep, setKeep] = useState(String(app.backup_keep));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [confirm, setConfirm] = useState('');
  const [deleting, setDeleting] = useState<number | null>(null);
  const save = async (e: Event) => {
    e.preventDefault(); setError(null); setSaved(null);
    try {
      const r = await api<{ status: string; position?: number }>('PATCH', `/api/apps/${app.name}`, {
        domains: domains.split(/[\s,]+/).filter(Boolean), memory_max: memory || null, cpu_quota: cpu ? Number(cpu) : null,
        backup_schedule: schedule || null, backup_keep: Number(keep),
      });
      setSaved(typeof r.position === 'number' ? `Queued behind ${r.position} operation(s).` : `Applied (${r.status}).`);
      onDone();
    } catch (err) { setError(err); }
  };
  const remove = async () => {
    setError(null);
    try {
      const r = await api<{ deployment_id: number; status: string }>('DELETE', `/api/apps/${app.name}`);
      setDeleting(r.deployment_id);
    } catch (err) { setError(err); }
  };
  return (
    <section>
      <form class="form" onSubmit={save}>
        <label>Domains <input value={domains} onInput={(e) => setDomains(e.currentTarget.value)} /></label>
        <div class="two">
          <label>Memory limit <input value={memory} onInput={(e) => setMemory(e.currentTarget.value)} placeholder="none" /></label>
          <label>CPU quota % <input type="number" value={cpu} onInput={(e) => setCpu(e.currentTarget.value)} placeholder="none" /></label>
        </div>
        <div class="two">
          <label>Backup schedule (cron) <input value={schedule} onInput={(e) => setSchedule(e.currentTarget.value)} placeholder="0 3 * * *" /></label>
          <label>Backups kept <input type="number" min="1" value={keep} onInput={(e) => setKeep(e.currentTarget.value)} /></label>
        </div>
        <button type="submit">Save settings</button>
        {saved ? <p role="status">{saved}</p> : null}
      </form>
      <ErrorNote error={error} />
      <section class="danger">
        <h2>Delete {app.name}</h2>
        <p>The unit, site and environment are removed; the data is archived.</p>
        {deleting !== null ? <DeploymentProgress id={deleting} onEnd={(d) => { if (d.status === 'success') go('apps'); }} /> : (
          <div class="row">
            <label>Type <code>{app.name}</code> to confirm <input value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} aria-label="Confirm the app name" /></label>
            <button class="danger" disabled={confirm !== app.name} onClick={() => void remove()}>Delete app</button>
          </div>
        )}
      </section>
    </section>
  );
}
