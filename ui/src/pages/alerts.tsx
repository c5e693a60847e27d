import { useState } from 'preact/hooks';
import { api, ago } from '../api.js';
import { Badge, ConfirmButton, Empty, ErrorNote, useLoad, Table } from '../components.js';
import type { AlertRule, ChannelView, IncidentRow, OutboxMessage } from '../types.js';
import { AddChannel, AddRule } from './alerts-forms.js';
import { Incidents } from './alerts-incidents.js';

type Channel = ChannelView;
type Rule = AlertRule;
type Incident = IncidentRow;
type Outbox = OutboxMessage;

/** Alerts: channels (with a test), rules, incidents and every message with its tries. */
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
        <AddChannel
          onDone={() => {
            channels.reload();
            rules.reload();
          }}
        />
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
      <Incidents list={incidents.data?.incidents ?? null} onChange={incidents.reload} />
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
