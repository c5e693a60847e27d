import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, bytes, ago, stream } from '../api.js';
import { toBytes } from '../../../src/size.js';
import { Badge, DeploymentProgress, ErrorNote, useLoad } from '../components.js';
import { RANGES, RangePicker, TimeChart, sinceOf, type RangeName } from '../chart.js';
import { LogView } from '../logview.js';
import { flash, go } from '../router.js';
import type { AppDetail, AppSample, Deployment } from '../types.js';
import { Backups, Deploy, Deployments } from './app-deploy.js';

const TABS = ['overview', 'logs', 'deployments', 'deploy', 'backups', 'env', 'settings'] as const;

interface Health {
  state: string;
  since: string | null;
  history: Array<{ at: string; state: string; latency_ms: number | null; error: string | null }>;
}

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
  const useless = (a: string) =>
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

function Overview({ app, changes }: { app: AppDetail; changes: number }) {
  const [range, setRange] = useState<RangeName>('1 h');
  const metrics = useLoad(
    () =>
      api<{ samples: AppSample[] }>(
        'GET',
        `/api/apps/${app.name}/metrics?limit=20000&since=${encodeURIComponent(sinceOf(range))}`,
      ),
    [app.name, app.updated_at, range],
    `${app.name} ${range}`,
  );
  const health = useLoad(
    () => api<Health>('GET', `/api/apps/${app.name}/health?limit=500`),
    [app.name, app.updated_at, changes],
    app.name,
  );
  const s = metrics.data?.samples ?? [];
  const times = s.map((x) => Date.parse(x.at));
  const hist = [...(health.data?.history ?? [])]
    .reverse()
    .filter((h) => Date.parse(h.at) >= Date.now() - RANGES[range]);
  return (
    <section>
      <div class="row spread">
        <h2>Overview</h2>
        <RangePicker value={range} onChange={setRange} />
      </div>
      <div class="grid">
        <dl class="facts">
          <dt>Version</dt>
          <dd>PocketBase {app.version}</dd>
          <dt>Bundle</dt>
          <dd>{app.bundle === null ? 'none' : `#${app.bundle}`}</dd>
          <dt>Port</dt>
          <dd>{app.port}</dd>
          <dt>Domains</dt>
          <dd>{app.domains.join(', ') || 'loopback only'}</dd>
          <dt>Memory now</dt>
          <dd>
            {bytes(app.runtime?.memory_bytes)}
            {app.memory_max ? ` of ${bytes(toBytes(app.memory_max))}` : ' (no limit)'}
          </dd>
          <dt>CPU quota</dt>
          <dd>{app.cpu_quota ? `${app.cpu_quota}% of one core` : 'no limit'}</dd>
          <dt>Restarts</dt>
          <dd>{app.runtime?.restarts ?? '—'}</dd>
          <dt>Up since</dt>
          <dd>
            {app.runtime?.active_since
              ? `${new Date(app.runtime.active_since).toLocaleString()} (${ago(app.runtime.active_since)})`
              : '—'}
          </dd>
          <dt>Config</dt>
          <dd>{app.config_match.match ? <Badge value="in sync" /> : <span class="badge bad">drift</span>}</dd>
          {(app as WithCertificates).certificates?.map((c) => (
            <Fragment key={c.domain}>
              <dt>Certificate</dt>
              <dd data-testid="certificate">
                {c.domain}:{' '}
                {c.error ? (
                  <span class="badge bad" title={c.error}>
                    error
                  </span>
                ) : (
                  <Badge value="ok" />
                )}{' '}
                {c.error ? (
                  <span class="muted">{c.error}</span>
                ) : (
                  `${c.issuer ?? ''}, until ${c.valid_until ? new Date(c.valid_until).toLocaleString() : '?'}`
                )}
              </dd>
            </Fragment>
          ))}
        </dl>
        <div>
          <TimeChart title="Memory" times={times} values={s.map((x) => x.memory_bytes)} format={bytes} />
          <TimeChart
            title="CPU"
            times={times}
            values={s.map((x) => x.cpu_percent)}
            format={(v) => `${Math.round(v * 10) / 10}%`}
          />
        </div>
        <div>
          <h2>
            Health <Badge value={health.data?.state ?? 'unknown'} />
          </h2>
          <TimeChart
            title="Health check latency"
            times={hist.map((h) => Date.parse(h.at))}
            values={hist.map((h) => h.latency_ms)}
            format={(v) => `${Math.round(v)} ms`}
          />
          <ol class="history">
            {(health.data?.history ?? []).slice(0, 8).map((h) => (
              <li key={h.at}>
                <Badge value={h.state} /> {ago(h.at)} {h.error ?? ''}
              </li>
            ))}
          </ol>
        </div>
      </div>
    </section>
  );
}

/** What Caddy serves for each domain (GET /api/apps/:name adds it to the app). */
type WithCertificates = AppDetail & {
  certificates?: Array<{ domain: string; issuer?: string; valid_until?: string; error: string | null }>;
};

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The app's environment: rows to add, change and remove; unsaved changes are not lost by leaving unwarned. */
function EnvEditor({ app }: { app: string }) {
  const [rows, setRows] = useState<Array<[string, string]> | null>(null);
  const [saved, setSaved] = useState<string>('[]');
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const take = (env: Record<string, string>) => {
    const r = Object.entries(env);
    setRows(r);
    setSaved(JSON.stringify(r));
  };
  useEffect(() => {
    void api<{ env: Record<string, string> }>('GET', `/api/apps/${app}/env`).then((r) => take(r.env), setError);
  }, [app]);
  const dirty = rows !== null && JSON.stringify(rows) !== saved;
  useUnsavedGuard(dirty);
  const save = async (restart: boolean) => {
    setError(null);
    setResult(null);
    try {
      const r = await api<{
        env?: Record<string, string>;
        changed?: boolean;
        restart_required?: boolean;
        restarted?: boolean;
        position?: number;
      }>('PUT', `/api/apps/${app}/env${restart ? '?restart=1' : ''}`, {
        env: Object.fromEntries(rows!.filter(([k, v]) => k || v)),
      });
      if (typeof r.position === 'number' || !r.env) {
        setSaved(JSON.stringify(rows));
        setResult(`Queued behind ${r.position ?? 0} operation(s); it is saved in its turn.`);
        return;
      }
      take(r.env);
      setResult(
        !r.changed
          ? 'Nothing changed.'
          : r.restarted
            ? 'Saved; the app was restarted.'
            : r.restart_required
              ? 'Saved; restart the app to use it.'
              : 'Saved.',
      );
    } catch (e) {
      setError(e);
    }
  };
  if (!rows) return <ErrorNote error={error} />;
  const set = (i: number, at: 0 | 1, v: string) =>
    setRows(rows.map((r, j) => (j === i ? (at === 0 ? [v, r[1]] : [r[0], v]) : r)));
  return (
    <section class="form">
      <p class="muted">
        Keys are letters, digits and _, not starting with a digit. Values of secret-looking keys are masked; leave a
        mask as it is to keep the stored value.
      </p>
      {rows.length === 0 ? <p class="muted">No variables.</p> : null}
      {rows.map(([k, v], i) => (
        <div class="env-row" key={i}>
          <label>
            Key{' '}
            <input
              value={k}
              aria-invalid={k !== '' && !ENV_KEY.test(k)}
              onInput={(e) => set(i, 0, e.currentTarget.value)}
            />
          </label>
          <label>
            Value{' '}
            <input
              value={v}
              type={v === '********' ? 'password' : 'text'}
              onInput={(e) => set(i, 1, e.currentTarget.value)}
            />
          </label>
          <button
            class="small"
            onClick={() => setRows(rows.filter((_, j) => j !== i))}
            aria-label={`Remove ${k || 'this variable'}`}
          >
            Remove
          </button>
          {k !== '' && !ENV_KEY.test(k) ? (
            <span class="field-error">{k}: keys must be letters, digits and _, not starting with a digit</span>
          ) : null}
        </div>
      ))}
      <div class="row">
        <button onClick={() => setRows([...rows, ['', '']])}>Add variable</button>
        <button onClick={() => void save(false)} disabled={!dirty}>
          Save
        </button>
        <button onClick={() => void save(true)} disabled={!dirty}>
          Save and restart
        </button>
        {dirty ? (
          <span class="muted" role="status">
            Unsaved changes
          </span>
        ) : null}
      </div>
      {result ? <p role="status">{result}</p> : null}
      <ErrorNote error={error} />
    </section>
  );
}

/** Asks before the page or the tab is left with unsaved changes (a link in the dashboard, a reload, closing the tab). */
function useUnsavedGuard(dirty: boolean) {
  useEffect(() => {
    if (!dirty) return;
    const unload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    // Links are stopped before they navigate: once the hash changed, the editor would already be gone.
    const click = (e: MouseEvent) => {
      const a = (e.target as Element | null)?.closest?.('a[href^="#"]');
      if (a && a.getAttribute('href') !== location.hash && !confirm('Leave without saving the environment?')) {
        e.preventDefault();
        e.stopPropagation();
      }
    };
    addEventListener('beforeunload', unload);
    document.addEventListener('click', click, true);
    return () => {
      removeEventListener('beforeunload', unload);
      document.removeEventListener('click', click, true);
    };
  }, [dirty]);
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
    e.preventDefault();
    setError(null);
    setSaved(null);
    try {
      const r = await api<{ status: string; position?: number }>('PATCH', `/api/apps/${app.name}`, {
        domains: domains.split(/[\s,]+/).filter(Boolean),
        memory_max: memory || null,
        cpu_quota: cpu ? Number(cpu) : null,
        backup_schedule: schedule || null,
        backup_keep: Number(keep),
      });
      setSaved(
        typeof r.position === 'number'
          ? `Queued behind ${r.position} operation(s); it is applied in its turn.`
          : r.status === 'success'
            ? 'Saved and applied.'
            : `Not applied: ${r.status}.`,
      );
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  const remove = async () => {
    setError(null);
    try {
      const r = await api<{ deployment_id: number; status: string }>('DELETE', `/api/apps/${app.name}`);
      if (r.status === 'success') {
        flash(`${app.name} was deleted; its data is archived.`);
        go('apps');
        return;
      }
      setDeleting(r.deployment_id);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section>
      <form class="form" onSubmit={save}>
        <label>
          Domains <input value={domains} onInput={(e) => setDomains(e.currentTarget.value)} />
        </label>
        <div class="two">
          <label>
            Memory limit <input value={memory} onInput={(e) => setMemory(e.currentTarget.value)} placeholder="none" />
          </label>
          <label>
            CPU quota %{' '}
            <input type="number" value={cpu} onInput={(e) => setCpu(e.currentTarget.value)} placeholder="none" />
          </label>
        </div>
        <div class="two">
          <label>
            Backup schedule (cron){' '}
            <input value={schedule} onInput={(e) => setSchedule(e.currentTarget.value)} placeholder="0 3 * * *" />
          </label>
          <label>
            Backups kept <input type="number" min="1" value={keep} onInput={(e) => setKeep(e.currentTarget.value)} />
          </label>
        </div>
        <button type="submit">Save settings</button>
        {saved ? <p role="status">{saved}</p> : null}
      </form>
      <ErrorNote error={error} />
      <SuperuserForm app={app} />
      <section class="danger-zone">
        <h2>Delete {app.name}</h2>
        <p>The unit, site and environment are removed; the data is archived.</p>
        {deleting !== null ? (
          <DeploymentProgress
            id={deleting}
            onEnd={(d) => {
              if (d.status === 'success') {
                flash(`${app.name} was deleted; its data is archived.`);
                go('apps');
              }
            }}
          />
        ) : (
          <div class="row">
            <label class="confirm-name">
              <span>
                Type <code>{app.name}</code> to confirm
              </span>{' '}
              <input
                value={confirm}
                onInput={(e) => setConfirm(e.currentTarget.value)}
                aria-label="Confirm the app name"
              />
            </label>
            <button class="danger" disabled={confirm !== app.name} onClick={() => void remove()}>
              Delete app
            </button>
          </div>
        )}
      </section>
    </section>
  );
}

/** The app's PocketBase superuser: created, or its password set anew. */
function SuperuserForm({ app }: { app: AppDetail }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    setBusy(true);
    try {
      const r = await api<{ email?: string; position?: number }>('PUT', `/api/apps/${app.name}/superuser`, {
        email,
        password,
      });
      setPassword('');
      setResult(
        typeof r.position === 'number'
          ? `Queued behind ${r.position} operation(s).`
          : `Superuser ${r.email} is set; sign in at /_/.`,
      );
    } catch (x) {
      setError(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form" onSubmit={submit} aria-labelledby="su-title">
      <h2 id="su-title">PocketBase superuser</h2>
      <p class="muted">Creates the superuser, or sets a new password for one that exists. The app must be running.</p>
      <div class="two">
        <label>
          Superuser email{' '}
          <input
            type="email"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
            autocomplete="off"
          />
        </label>
        <label>
          New password{' '}
          <input
            type="password"
            required
            minLength={10}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            autocomplete="new-password"
          />
        </label>
      </div>
      <button type="submit" disabled={busy || app.state !== 'running'}>
        {busy ? 'Setting…' : 'Set superuser'}
      </button>
      {result ? <p role="status">{result}</p> : null}
      <ErrorNote error={error} />
    </form>
  );
}
