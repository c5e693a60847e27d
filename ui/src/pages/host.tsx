import { useState } from 'preact/hooks';
import { api, ago, bytes, duration } from '../api.js';
import { Badge, ConfirmButton, Empty, ErrorNote, useLoad, Table } from '../components.js';
import { RangePicker, TimeChart, sinceOf, type RangeName } from '../chart.js';
import type { AuditRow, Check, HostSample, TokenInfo } from '../types.js';

interface Info {
  version: string;
  node: string;
  uptime_seconds: number;
}

/** The host: checks with their messages, metrics and pocketd's version. */
export function Host() {
  const checks = useLoad(() => api<{ ok: boolean; checks: Check[] }>('GET', '/api/validate/system'), []);
  const [range, setRange] = useState<RangeName>('1 h');
  const metrics = useLoad(
    () =>
      api<{
        current: HostSample & { cpus: number };
        samples: Array<{
          at: string;
          load1: number;
          cpu_percent: number;
          memory_total: number;
          memory_available: number;
        }>;
      }>('GET', `/api/system/metrics?limit=20000&since=${encodeURIComponent(sinceOf(range))}`),
    [range],
  );
  const info = useLoad(() => api<Info>('GET', '/api/system/info'), []);
  const m = metrics.data?.current;
  return (
    <main>
      <h1>Host</h1>
      <ErrorNote error={checks.error ?? metrics.error ?? info.error} />
      <section class="grid">
        <div>
          <h2>Checks {checks.data ? <Badge value={checks.data.ok ? 'healthy' : 'unhealthy'} /> : null}</h2>
          <ul class="list checks">
            {(checks.data?.checks ?? []).map((c) => (
              <li key={c.name}>
                <Badge value={c.ok ? 'ok' : 'failed'} /> <strong>{c.name}</strong>: {c.message}
              </li>
            ))}
          </ul>
        </div>
        <dl class="facts">
          <dt>pocketd</dt>
          <dd data-testid="version">{info.data?.version ?? '—'}</dd>
          <dt>Node.js</dt>
          <dd>{info.data?.node ?? '—'}</dd>
          <dt>pocketd up</dt>
          <dd>{info.data ? duration(info.data.uptime_seconds) : '—'}</dd>
          <dt>Host up</dt>
          <dd>{m ? duration(m.uptime_seconds) : '—'}</dd>
          <dt>Load</dt>
          <dd>{m ? `${m.load1.toFixed(2)} ${m.load5.toFixed(2)} ${m.load15.toFixed(2)} (${m.cpus} CPUs)` : '—'}</dd>
          <dt>Memory</dt>
          <dd>{m ? `${bytes(m.memory_total - m.memory_available)} used of ${bytes(m.memory_total)}` : '—'}</dd>
          <dt>Disk (data)</dt>
          <dd>
            {m
              ? `${bytes(m.disk_free)} free of ${bytes(m.disk_total)} (${m.disk_total ? Math.round((m.disk_free / m.disk_total) * 100) : 0}% free)`
              : '—'}
          </dd>
        </dl>
        <div>
          <RangePicker value={range} onChange={setRange} />
          <TimeChart
            title="CPU"
            times={(metrics.data?.samples ?? []).map((s) => Date.parse(s.at))}
            values={(metrics.data?.samples ?? []).map((s) => s.cpu_percent)}
            format={(v) => `${Math.round(v * 10) / 10}%`}
          />
          <TimeChart
            title="Memory used"
            times={(metrics.data?.samples ?? []).map((s) => Date.parse(s.at))}
            values={(metrics.data?.samples ?? []).map((s) => s.memory_total - s.memory_available)}
            format={bytes}
          />
        </div>
      </section>
    </main>
  );
}

/** API tokens: create one with a scope and an expiry (its secret is shown once, with Copy), revoke after asking. */
export function Tokens() {
  const { data, error, reload } = useLoad(() => api<{ tokens: TokenInfo[] }>('GET', '/api/tokens'), []);
  const apps = useLoad(() => api<{ apps: Array<{ name: string }> }>('GET', '/api/apps?limit=500'), []);
  const [name, setName] = useState('');
  const [scope, setScope] = useState('admin');
  const [days, setDays] = useState('90');
  const [secret, setSecret] = useState<string | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const create = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    setCopied(null);
    try {
      setSecret(
        (await api<{ token: string }>('POST', '/api/tokens', { name, scope, expires_days: Number(days) })).token,
      );
      setName('');
      reload();
    } catch (x) {
      setErr(x);
    }
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret!);
      setCopied('Copied.');
    } catch {
      // Without clipboard access the secret is selected, ready for Ctrl+C.
      const el = document.querySelector('[data-testid=secret]');
      if (el) getSelection()?.selectAllChildren(el);
      setCopied('Selected: press Ctrl+C to copy.');
    }
  };
  const revoke = async (id: number) => {
    try {
      await api('DELETE', `/api/tokens/${id}`);
      reload();
    } catch (x) {
      setErr(x);
    }
  };
  const scopes = ['admin', ...(apps.data?.apps ?? []).flatMap((a) => [`app:${a.name}:deploy`, `app:${a.name}:read`])];
  return (
    <main>
      <h1>Tokens</h1>
      <form class="form" onSubmit={create}>
        <div class="three">
          <label>
            Name <input value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="ci-shop" required />
          </label>
          <label>
            Scope{' '}
            <select value={scope} onChange={(e) => setScope(e.currentTarget.value)}>
              {scopes.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label>
            Expires in{' '}
            <select value={days} onChange={(e) => setDays(e.currentTarget.value)}>
              {[
                ['7', '7 days'],
                ['30', '30 days'],
                ['90', '90 days'],
                ['365', '1 year'],
              ].map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          </label>
        </div>
        <button type="submit">Create token</button>
      </form>
      {secret ? (
        <div class="panel" role="status">
          <p>Copy this token now; it is not shown again:</p>
          <code class="secret" data-testid="secret">
            {secret}
          </code>
          <div class="row">
            <button class="small" onClick={() => void copy()}>
              Copy
            </button>
            <button class="small" onClick={() => setSecret(null)}>
              I have copied it
            </button>
            {copied ? <span class="muted">{copied}</span> : null}
          </div>
        </div>
      ) : null}
      <ErrorNote error={err ?? error} />
      {data?.tokens.length === 0 ? (
        <Empty>No tokens.</Empty>
      ) : (
        <Table label="Tokens table" head={['Name', 'Kind', 'Scope', 'Prefix', 'Last used', 'Expires', '']} cards>
          {(data?.tokens ?? []).map((t) => (
            <tr key={t.id}>
              <td>{t.name}</td>
              <td>{t.kind}</td>
              <td>
                <code>{t.scope}</code>
              </td>
              <td>
                <code>{t.prefix}</code>
              </td>
              <td>{ago(t.last_used_at)}</td>
              <td>{t.expires_at.slice(0, 10)}</td>
              <td>
                <ConfirmButton
                  label="Revoke"
                  danger
                  question={`Revoke ${t.name}? What uses it stops working.`}
                  onConfirm={() => void revoke(t.id)}
                />
              </td>
            </tr>
          ))}
        </Table>
      )}
    </main>
  );
}

const PAGE = 50;

/** The audit log: filtered by actor, app and route, paged, each row with what the request asked to change. */
export function Audit() {
  const [filter, setFilter] = useState({ actor: '', target: '', route: '' });
  const [applied, setApplied] = useState(filter);
  const [pages, setPages] = useState<number[]>([]);
  const before = pages.at(-1);
  const { data, error } = useLoad(() => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (before !== undefined) q.set('before', String(before));
    for (const [k, v] of Object.entries(applied)) if (v.trim()) q.set(k, v.trim());
    return api<{ entries: AuditRow[] }>('GET', `/api/audit?${q}`);
  }, [JSON.stringify(applied), before]);
  const entries = data?.entries ?? [];
  const submit = (e: Event) => {
    e.preventDefault();
    setPages([]);
    setApplied(filter);
  };
  const field = (k: keyof typeof filter, label: string, placeholder: string) => (
    <label>
      {label}{' '}
      <input
        value={filter[k]}
        placeholder={placeholder}
        onInput={(e) => setFilter({ ...filter, [k]: e.currentTarget.value })}
      />
    </label>
  );
  return (
    <main>
      <h1>Audit log</h1>
      <form class="form wide" onSubmit={submit} aria-label="Filter the audit log">
        <div class="three">
          {field('actor', 'Actor', 'admin@example.com or token:ci (…)')}
          {field('target', 'App', 'shop')}
          {field('route', 'Route', '/api/apps/{name}/upgrade')}
        </div>
        <div class="row">
          <button type="submit">Filter</button>
          {Object.values(applied).some(Boolean) ? (
            <button
              type="button"
              onClick={() => {
                const none = { actor: '', target: '', route: '' };
                setFilter(none);
                setApplied(none);
                setPages([]);
              }}
            >
              Clear
            </button>
          ) : null}
        </div>
      </form>
      <ErrorNote error={error} />
      {data && entries.length === 0 ? (
        <Empty>
          {pages.length || Object.values(applied).some(Boolean) ? 'No entries match.' : 'Nothing has been changed yet.'}
        </Empty>
      ) : (
        <Table label="Audit log table" head={['When', 'Who', 'What', 'Target', 'Status', 'Fields']}>
          {entries.map((e) => (
            <tr key={e.id}>
              <td title={e.at}>{new Date(e.at).toLocaleString()}</td>
              <td>{e.actor}</td>
              <td>
                <code>
                  {e.method} {e.route}
                </code>
              </td>
              <td>{e.target ?? ''}</td>
              <td>{e.status}</td>
              <td class="clip" title={e.fields ?? ''}>
                {e.fields ? <code>{e.fields}</code> : ''}
              </td>
            </tr>
          ))}
        </Table>
      )}
      <div class="row pager">
        <button disabled={pages.length === 0} onClick={() => setPages(pages.slice(0, -1))}>
          Newer
        </button>
        <button disabled={entries.length < PAGE} onClick={() => setPages([...pages, entries.at(-1)!.id])}>
          Older
        </button>
      </div>
    </main>
  );
}
