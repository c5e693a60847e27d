import { useState } from 'preact/hooks';
import { api, ago } from '../api.js';
import { ConfirmButton, Empty, ErrorNote, useLoad, Table } from '../components.js';
import type { TokenInfo } from '../types.js';

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
