import { useState } from 'preact/hooks';
import { api, ago } from '../api.js';
import { Badge, ConfirmButton, Empty, ErrorNote, useLoad, Table } from '../components.js';

/** Alerts: channels (with a test), rules, incidents and every message with its tries. */
interface Channel {
  id: number;
  name: string;
  kind: string;
  target: string;
  created_at: string;
}
interface Rule {
  id: number;
  kinds: string[];
  app: string | null;
  channel_id: number;
}
interface Incident {
  id: number;
  kind: string;
  app: string | null;
  title: string;
  detail: string | null;
  opened_at: string;
  closed_at: string | null;
}
interface Outbox {
  id: number;
  channel: string;
  event: string;
  title: string;
  status: string;
  attempts: number;
  next_at: string | null;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

const KINDS = ['app_down', 'deployment_failed', 'backup_failed', 'disk_low', 'host_check', 'certificate'];

export function Alerts() {
  const channels = useLoad(() => api<{ channels: Channel[] }>('GET', '/api/alerts/channels'), []);
  const rules = useLoad(() => api<{ rules: Rule[] }>('GET', '/api/alerts/rules'), []);
  const incidents = useLoad(() => api<{ incidents: Incident[] }>('GET', '/api/alerts/incidents?limit=50'), []);
  const outbox = useLoad(() => api<{ messages: Outbox[] }>('GET', '/api/alerts/outbox?limit=50'), []);
  const apps = useLoad(() => api<{ apps: Array<{ name: string }> }>('GET', '/api/apps?limit=500'), []);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const names = new Map((channels.data?.channels ?? []).map((c) => [c.id, c.name]));
  const act = async (fn: () => Promise<unknown>, then: () => void) => {
    setError(null);
    setNote(null);
    try {
      await fn();
      then();
    } catch (e) {
      setError(e);
    }
  };
  const test = (c: Channel) =>
    act(async () => {
      const r = await api<{ status: string; error: string | null }>('POST', `/api/alerts/channels/${c.id}/test`);
      setNote(r.status === 'sent' ? `A test message went to ${c.name}.` : `${c.name} failed: ${r.error ?? ''}`);
    }, outbox.reload);
  return (
    <main>
      <h1>Alerts</h1>
      <ErrorNote error={error ?? channels.error} />
      {note ? <p role="status">{note}</p> : null}
      <section>
        <h2>Channels</h2>
        {channels.data?.channels.length === 0 ? (
          <Empty>No channel yet: add one below.</Empty>
        ) : (
          <ul class="list">
            {(channels.data?.channels ?? []).map((c) => (
              <li key={c.id}>
                <strong>{c.name}</strong> <Badge value={c.kind} /> <code>{c.target}</code>{' '}
                <button class="small" onClick={() => void test(c)}>
                  Send a test
                </button>{' '}
                <ConfirmButton
                  label="Remove"
                  danger
                  question={`Remove ${c.name} and its rules?`}
                  onConfirm={() =>
                    void act(
                      () => api('DELETE', `/api/alerts/channels/${c.id}`),
                      () => {
                        channels.reload();
                        rules.reload();
                      },
                    )
                  }
                />
              </li>
            ))}
          </ul>
        )}
        <AddChannel onDone={channels.reload} />
      </section>
      <section>
        <h2>Rules</h2>
        {rules.data?.rules.length === 0 ? (
          <Empty>No rule: nothing is sent anywhere.</Empty>
        ) : (
          <ul class="list">
            {(rules.data?.rules ?? []).map((r) => (
              <li key={r.id}>
                {r.kinds.join(', ')} for {r.app ?? 'every app'} to{' '}
                <strong>{names.get(r.channel_id) ?? `#${r.channel_id}`}</strong>{' '}
                <ConfirmButton
                  label="Remove"
                  danger
                  question="Remove this rule?"
                  onConfirm={() => void act(() => api('DELETE', `/api/alerts/rules/${r.id}`), rules.reload)}
                />
              </li>
            ))}
          </ul>
        )}
        <AddRule
          channels={channels.data?.channels ?? []}
          apps={(apps.data?.apps ?? []).map((a) => a.name)}
          onDone={rules.reload}
        />
      </section>
      <section>
        <h2>Incidents</h2>
        {incidents.data?.incidents.length === 0 ? (
          <Empty>No incident so far.</Empty>
        ) : (
          <ul class="list">
            {(incidents.data?.incidents ?? []).map((i) => (
              <li key={i.id}>
                <Badge value={i.closed_at ? 'resolved' : 'open'} /> {i.title}{' '}
                <span class="muted">
                  {ago(i.opened_at)}
                  {i.detail ? ` — ${i.detail}` : ''}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section>
        <h2>Messages</h2>
        {outbox.data?.messages.length === 0 ? (
          <Empty>Nothing sent yet.</Empty>
        ) : (
          <Table
            label="Messages table"
            head={['When', 'Channel', 'What', 'Status', 'Tries', 'Next try or reason']}
            cards
          >
            {(outbox.data?.messages ?? []).map((m) => (
              <tr key={m.id}>
                <td>{ago(m.created_at)}</td>
                <td>{m.channel}</td>
                <td>
                  {m.event}: {m.title}
                </td>
                <td>
                  <Badge value={m.status} />
                </td>
                <td>{m.attempts}</td>
                <td class="clip">
                  {m.status === 'pending' && m.next_at ? `next ${new Date(m.next_at).toLocaleTimeString()}` : ''}
                  {m.last_error ? ` ${m.last_error}` : ''}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </section>
    </main>
  );
}

function AddChannel({ onDone }: { onDone: () => void }) {
  const [kind, setKind] = useState('webhook');
  const [f, setF] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const field = (k: string, label: string, type = 'text', placeholder = '') => (
    <label>
      {label}{' '}
      <input
        type={type}
        value={f[k] ?? ''}
        placeholder={placeholder}
        onInput={(e) => setF({ ...f, [k]: e.currentTarget.value })}
      />
    </label>
  );
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setSecret(null);
    const body: Record<string, unknown> = { kind, name: f.name ?? '' };
    if (kind === 'email')
      Object.assign(body, {
        host: f.host,
        port: Number(f.port || 587),
        from: f.from,
        to: (f.to ?? '').split(/[\s,]+/).filter(Boolean),
        ...(f.user ? { user: f.user, password: f.password } : {}),
      });
    else
      Object.assign(body, {
        url: f.url,
        ...(kind === 'webhook' && f.secret ? { secret: f.secret } : {}),
        ...(kind === 'ntfy' && f.token ? { token: f.token } : {}),
      });
    try {
      const r = await api<{ secret?: string }>('POST', '/api/alerts/channels', body);
      if (r.secret) setSecret(r.secret);
      setF({});
      onDone();
    } catch (x) {
      setError(x);
    }
  };
  return (
    <form class="form" onSubmit={submit} aria-label="Add a channel">
      <div class="two">
        <label>
          Kind{' '}
          <select value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
            {['webhook', 'slack', 'discord', 'ntfy', 'email'].map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        {field('name', 'Channel name', 'text', 'ops')}
      </div>
      {kind === 'email' ? (
        <>
          <div class="two">
            {field('host', 'SMTP host', 'text', 'smtp.example.com')}
            {field('port', 'Port', 'number', '587')}
          </div>
          <div class="two">
            {field('user', 'SMTP user')}
            {field('password', 'SMTP password', 'password')}
          </div>
          <div class="two">
            {field('from', 'From', 'email', 'pocketd@example.com')}
            {field('to', 'To (comma separated)', 'text', 'ops@example.com')}
          </div>
        </>
      ) : (
        <>
          {field(
            'url',
            kind === 'ntfy' ? 'Topic URL' : 'Webhook URL',
            'url',
            kind === 'ntfy' ? 'https://ntfy.sh/my-topic' : 'https://…',
          )}
          {kind === 'webhook'
            ? field('secret', 'Signing secret (left empty: generated and shown once)', 'password')
            : null}
          {kind === 'ntfy' ? field('token', 'Access token (optional)', 'password') : null}
        </>
      )}
      <button type="submit">Add channel</button>
      {secret ? (
        <p role="status">
          Signing secret, shown once: <code class="secret">{secret}</code>
        </p>
      ) : null}
      <ErrorNote error={error} />
    </form>
  );
}

function AddRule({ channels, apps, onDone }: { channels: Channel[]; apps: string[]; onDone: () => void }) {
  const [kinds, setKinds] = useState<string[]>(['app_down']);
  const [app, setApp] = useState('');
  const [channel, setChannel] = useState('');
  const [error, setError] = useState<unknown>(null);
  if (channels.length === 0) return null;
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await api('POST', '/api/alerts/rules', {
        kinds,
        app: app || null,
        channel_id: Number(channel || channels[0]!.id),
      });
      onDone();
    } catch (x) {
      setError(x);
    }
  };
  return (
    <form class="form" onSubmit={submit} aria-label="Add a rule">
      <fieldset>
        <legend>Alert on</legend>
        {KINDS.map((k) => (
          <label key={k} class="check">
            <input
              type="checkbox"
              checked={kinds.includes(k)}
              onChange={(e) => setKinds(e.currentTarget.checked ? [...kinds, k] : kinds.filter((x) => x !== k))}
            />{' '}
            {k.replace('_', ' ')}
          </label>
        ))}
      </fieldset>
      <div class="two">
        <label>
          For{' '}
          <select value={app} onChange={(e) => setApp(e.currentTarget.value)}>
            <option value="">every app</option>
            {apps.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label>
          Send to{' '}
          <select value={channel || String(channels[0]?.id ?? '')} onChange={(e) => setChannel(e.currentTarget.value)}>
            {channels.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <button type="submit" disabled={kinds.length === 0}>
        Add rule
      </button>
      <ErrorNote error={error} />
    </form>
  );
}
