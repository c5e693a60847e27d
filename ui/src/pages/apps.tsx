import { useEffect, useRef, useState } from 'preact/hooks';
import { api, bytes, stream } from '../api.js';
import { Badge, Empty, ErrorNote, Sparkline, Table, useLoad } from '../components.js';
import { takeFlash } from '../router.js';
import type { AppSample, AppView } from '../types.js';
import { busyLabel, cpuText } from '../labels.js';

type Samples = Record<string, AppSample[]>;

/** Every app with live state (from the events stream), health, sparklines and controls. */
export function Apps() {
  const list = useLoad(() => api<{ apps: AppView[] }>('GET', '/api/apps?limit=500'), []);
  const apps = list.data?.apps ?? null;
  const [health, setHealth] = useState<Record<string, string>>({});
  const [samples, setSamples] = useState<Samples>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [q, setQ] = useState('');
  const [stateFilter, setStateFilter] = useState('all');
  const [notice] = useState(takeFlash);
  const timer = useRef<number | undefined>(undefined);

  // Health and sparklines of every app in one request, however many apps there are.
  const loadMetrics = async () => {
    const r = await api<{ apps: Record<string, { health: string; samples: AppSample[] }> }>(
      'GET',
      '/api/summary?limit=60',
    ).catch(() => ({ apps: {} }));
    setSamples(Object.fromEntries(Object.entries(r.apps).map(([n, a]) => [n, a.samples])));
    setHealth(Object.fromEntries(Object.entries(r.apps).map(([n, a]) => [n, a.health])));
  };

  useEffect(() => {
    const ctrl = new AbortController();
    // Any change to an app reloads the table (once per burst of events).
    void stream(
      '/api/events',
      (e) => {
        if (e.event === 'app.health') {
          const ev = e.data as { app: string; data: { to: string } };
          setHealth((h) => ({ ...h, [ev.app]: ev.data.to }));
        }
        if (e.event.startsWith('app.') || e.event === 'deployment.finished') {
          clearTimeout(timer.current);
          timer.current = window.setTimeout(() => list.reload(), 250);
        }
      },
      ctrl.signal,
    );
    return () => ctrl.abort();
  }, []);
  useEffect(() => {
    if (!apps) return;
    void loadMetrics();
    const t = setInterval(() => void loadMetrics(), 60_000);
    return () => clearInterval(t);
  }, [apps?.map((a) => a.name).join(',')]);

  const control = async (name: string, action: string) => {
    setBusy(`${name}:${action}`);
    try {
      await api('POST', `/api/apps/${name}/${action}`);
      list.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const needle = q.trim().toLowerCase();
  const shown = (apps ?? []).filter(
    (a) =>
      (stateFilter === 'all' || a.state === stateFilter || (health[a.name] ?? 'unknown') === stateFilter) &&
      (!needle || a.name.includes(needle) || a.domains.some((d) => d.includes(needle)) || a.version.includes(needle)),
  );
  return (
    <main>
      <div class="row spread">
        <h1>Apps</h1>
        <a class="button" href="#/new">
          New app
        </a>
      </div>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <ErrorNote error={error ?? list.error} />
      {apps !== null && apps.length > 0 ? (
        <div class="row filters">
          <label class="inline">
            Search{' '}
            <input
              type="search"
              value={q}
              onInput={(e) => setQ(e.currentTarget.value)}
              placeholder="name, domain or version"
            />
          </label>
          <label class="inline">
            Show{' '}
            <select value={stateFilter} onChange={(e) => setStateFilter(e.currentTarget.value)}>
              {['all', 'running', 'sleeping', 'stopped', 'failed', 'healthy', 'unhealthy'].map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
          </label>
          <span class="muted" data-testid="apps-count">
            {shown.length} of {apps.length}
          </span>
        </div>
      ) : null}
      {apps === null ? (
        list.error ? null : (
          <p class="muted">Loading…</p>
        )
      ) : apps.length === 0 ? (
        <Empty>
          No apps yet. <a href="#/new">Create the first one</a>.
        </Empty>
      ) : shown.length === 0 ? (
        <Empty>No app matches.</Empty>
      ) : (
        <Table
          label="Apps table"
          head={['Name', 'State', 'Health', 'Domains', 'Version', 'Memory', 'CPU', '']}
          cards
          tableClass="apps"
        >
          {shown.map((a) => {
            const s = samples[a.name] ?? [];
            return (
              <tr key={a.name} data-app={a.name}>
                <td>
                  <a href={`#/apps/${a.name}`}>{a.name}</a>
                </td>
                <td data-testid="state">
                  <Badge value={a.state} />
                </td>
                <td data-testid="health">
                  <Badge value={health[a.name] ?? 'unknown'} />
                </td>
                <td class="domains" title={a.domains.join(', ')}>
                  {a.domains.join(', ') || <span class="muted">loopback only</span>}
                </td>
                <td>{a.version}</td>
                <td class="metric">
                  <Sparkline values={s.map((x) => x.memory_bytes)} label={`memory of ${a.name}`} />{' '}
                  <span>{bytes(s.length ? s.at(-1)!.memory_bytes : a.runtime?.memory_bytes)}</span>
                </td>
                <td class="metric">
                  <Sparkline values={s.map((x) => x.cpu_percent)} label={`CPU of ${a.name}`} />{' '}
                  <span data-testid="cpu">{cpuText(s.at(-1)?.cpu_percent)}</span>
                </td>
                <td>
                  <div class="actions">
                    {(['start', 'stop', 'restart'] as const).map((act) => (
                      <button
                        key={act}
                        class="small"
                        disabled={busy !== null || a.status !== 'ready'}
                        onClick={() => void control(a.name, act)}
                        aria-label={`${act} ${a.name}`}
                      >
                        {busy === `${a.name}:${act}` ? busyLabel(act) : act}
                      </button>
                    ))}
                  </div>
                </td>
              </tr>
            );
          })}
        </Table>
      )}
    </main>
  );
}
