import { useState } from 'preact/hooks';
import { api, ago, bytes } from '../api.js';
import { Badge, Chart, Empty, ErrorNote, useLoad } from '../components.js';
import type { AuditRow, Check, HostSample, TokenInfo } from '../types.js';

interface Info { version: string; node: string; uptime_seconds: number }

/** The host: checks with their messages, metrics and pocketd's version. */
export function Host() {
  const checks = useLoad(() => api<{ ok: boolean; checks: Check[] }>('GET', '/api/validate/system'), []);
  const metrics = useLoad(() => api<{ current: HostSample & { cpus: number }; samples: Array<{ load1: number; cpu_percent: number; memory_total: number; memory_available: number }> }>('GET', '/api/system/metrics?limit=240'), []);
  const info = useLoad(() => api<Info>('GET', '/api/system/info'), []);
  const m = metrics.data?.current;
  return (
    <main>
      <h1>Host</h1>
      <ErrorNote error={checks.error ?? metrics.error ?? info.error} />
      <section class="grid">
        <div>
          <h2>Checks {checks.data ? <Badge value={checks.data.ok ? 'healthy' : 'unhealthy'} /> : null}</h2>
          <ul class="list checks">{(checks.data?.checks ?? []).map((c) => <li key={c.name}><Badge value={c.ok ? 'success' : 'failed'} /> <strong>{c.name}</strong>: {c.message}</li>)}</ul>
        </div>
        <dl class="facts">
          <dt>pocketd</dt><dd data-testid="version">{info.data?.version ?? '—'}</dd>
          <dt>Node.js</dt><dd>{info.data?.node ?? '—'}</dd>
          <dt>pocketd up</dt><dd>{info.data ? `${Math.round(info.data.uptime_seconds / 60)} min` : '—'}</dd>
          <dt>Host up</dt><dd>{m ? `${Math.round(m.uptime_seconds / 3600)} h` : '—'}</dd>
          <dt>Load</dt><dd>{m ? `${m.load1.toFixed(2)} ${m.load5.toFixed(2)} ${m.load15.toFixed(2)} (${m.cpus} CPUs)` : '—'}</dd>
          <dt>Memory</dt><dd>{m ? `${bytes(m.memory_total - m.memory_available)} used of ${bytes(m.memory_total)}` : '—'}</dd>
          <dt>Disk (data)</dt><dd>{m ? `${bytes(m.disk_free)} free of ${bytes(m.disk_total)}` : '—'}</dd>
        </dl>
        <div>
          <Chart title="CPU" values={(metrics.data?.samples ?? []).map((s) => s.cpu_percent)} format={(v) => `${v}%`} />
          <Chart title="Memory used" values={(metrics.data?.samples ?? []).map((s) => s.memory_total - s.memory_available)} format={bytes} />
        </div>
      </section>
    </main>
  );
}

/** API tokens: create one with a scope (its secret is shown once), revoke. */
export function Tokens() {
  const { data, error, reload } = useLoad(() => api<{ tokens: TokenInfo[] }>('GET', '/api/tokens'), []);
  const apps = useLoad(() => api<{ apps: Array<{ name: string }> }>('GET', '/api/apps?limit=500'), []);
  const [name, setName] = useState('');
  const [scope, setScope] = useState('admin');
  const [secret, setSecret] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const create = async (e: Event) => {
    e.preventDefault(); setErr(null);
    try { setSecret((await api<{ token: string }>('POST', '/api/tokens', { name, scope })).token); setName(''); reload(); } catch (x) { setErr(x); }
  };
  const revoke = async (id: number) => { try { await api('DELETE', `/api/tokens/${id}`); reload(); } catch (x) { setErr(x); } };
  const scopes = ['admin', ...(apps.data?.apps ?? []).flatMap((a) => [`app:${a.name}:deploy`, `app:${a.name}:read`])];
  return (
    <main>
      <h1>Tokens</h1>
      <form class="form" onSubmit={create}>
        <div class="two">
          <label>Name <input value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="ci-shop" required /></label>
          <label>Scope <select value={scope} onChange={(e) => setScope(e.currentTarget.value)}>{scopes.map((s) => <option key={s} value={s}>{s}</option>)}</select></label>
        </div>
        <button type="submit">Create token</button>
      </form>
      {secret ? <div class="panel" role="status"><p>Copy this token now; it is not shown again:</p><code class="secret" data-testid="secret">{secret}</code><button class="small" onClick={() => setSecret(null)}>I have copied it</button></div> : null}
      <ErrorNote error={err ?? error} />
      {data?.tokens.length === 0 ? <Empty>No tokens.</Empty> : (
        <div class="table-wrap"><table>
          <thead><tr><th>Name</th><th>Kind</th><th>Scope</th><th>Prefix</th><th>Last used</th><th>Expires</th><th><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>{(data?.tokens ?? []).map((t) => (
            <tr key={t.id}><td>{t.name}</td><td>{t.kind}</td><td><code>{t.scope}</code></td><td><code>{t.prefix}</code></td><td>{ago(t.last_used_at)}</td><td>{t.expires_at.slice(0, 10)}</td>
              <td><button class="small danger" onClick={() => void revoke(t.id)} aria-label={`Revoke ${t.name}`}>Revoke</button></td></tr>
          ))}</tbody>
        </table></div>
      )}
    </main>
  );
}

export function Audit() {
  const { data, error } = useLoad(() => api<{ entries: AuditRow[] }>('GET', '/api/audit?limit=200'), []);
  return (
    <main>
      <h1>Audit log</h1>
      <ErrorNote error={error} />
      {data?.entries.length === 0 ? <Empty>Nothing has been changed yet.</Empty> : (
        <div class="table-wrap"><table>
          <thead><tr><th>When</th><th>Who</th><th>What</th><th>Target</th><th>Status</th></tr></thead>
          <tbody>{(data?.entries ?? []).map((e) => (
            <tr key={e.id}><td title={e.at}>{ago(e.at)}</td><td>{e.actor}</td><td><code>{e.method} {e.route}</code></td><td>{e.target ?? ''}</td><td>{e.status}</td></tr>
          ))}</tbody>
        </table></div>
      )}
    </main>
  );
}
