import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorNote } from '../components.js';
import type { ChannelView } from '../types.js';

type Channel = ChannelView;

const KINDS = [
  'app_down',
  'crash_loop',
  'app_crashed',
  'deployment_failed',
  'backup_failed',
  'disk_low',
  'host_check',
  'certificate',
];
/** What a new channel hears of unless told otherwise: a channel that sends nothing is a trap. */
const DEFAULT_RULES = ['app_down', 'deployment_failed', 'backup_failed', 'disk_low'];

/** Checkboxes of alert kinds. */
function KindBoxes({ legend, value, onChange }: { legend: string; value: string[]; onChange: (v: string[]) => void }) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      {KINDS.map((k) => (
        <label key={k} class="check">
          <input
            type="checkbox"
            checked={value.includes(k)}
            onChange={(e) => onChange(e.currentTarget.checked ? [...value, k] : value.filter((x) => x !== k))}
          />{' '}
          {k.replace('_', ' ')}
        </label>
      ))}
    </fieldset>
  );
}

export function AddChannel({ onDone }: { onDone: () => void }) {
  const [kind, setKind] = useState('webhook');
  const [f, setF] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [alertOn, setAlertOn] = useState<string[]>(DEFAULT_RULES);
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
    const body: Record<string, unknown> = {
      kind,
      name: f.name ?? '',
      ...(alertOn.length ? { alert_on: alertOn } : {}),
    };
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
      <KindBoxes legend="Alert on, for every app (its rule is made with it)" value={alertOn} onChange={setAlertOn} />
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

export function AddRule({ channels, apps, onDone }: { channels: Channel[]; apps: string[]; onDone: () => void }) {
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
      <KindBoxes legend="Alert on" value={kinds} onChange={setKinds} />
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
