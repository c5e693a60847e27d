import { useState } from 'preact/hooks';
import { api, ago } from '../api.js';
import { Badge, Empty, ErrorNote } from '../components.js';
import type { IncidentRow } from '../types.js';

const MUTE_FOR: Array<[string, number]> = [
  ['1 hour', 60],
  ['4 hours', 240],
  ['1 day', 1440],
  ['1 week', 10080],
];

/** Incidents, newest first: an open one can be acknowledged (reminders stop) and muted for a while. */
export function Incidents({ list, onChange }: { list: IncidentRow[] | null; onChange: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [muteFor, setMuteFor] = useState(60);
  const act = async (path: string, body?: unknown) => {
    setError(null);
    try {
      await api('POST', path, body);
      onChange();
    } catch (e) {
      setError(e);
    }
  };
  const now = new Date().toISOString();
  return (
    <section aria-labelledby="incidents-title">
      <div class="row spread">
        <h2 id="incidents-title">Incidents</h2>
        <label class="inline">
          Mute for{' '}
          <select value={muteFor} onChange={(e) => setMuteFor(Number(e.currentTarget.value))}>
            {MUTE_FOR.map(([label, minutes]) => (
              <option key={minutes} value={minutes}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorNote error={error} />
      {list?.length === 0 ? (
        <Empty>No incident so far.</Empty>
      ) : (
        <ul class="list">
          {(list ?? []).map((i) => {
            const muted = i.muted_until !== null && i.muted_until > now;
            return (
              <li key={i.id} data-testid="incident">
                <Badge value={i.closed_at ? 'resolved' : 'open'} /> {i.title}{' '}
                <span class="muted">
                  {ago(i.opened_at)}
                  {i.detail ? ` — ${i.detail}` : ''}
                </span>{' '}
                {i.acknowledged_at ? (
                  <span class="badge ok">acknowledged by {i.acknowledged_by}</span>
                ) : !i.closed_at ? (
                  <button
                    class="small"
                    aria-label={`Acknowledge incident ${i.id}`}
                    onClick={() => void act(`/api/alerts/incidents/${i.id}/acknowledge`)}
                  >
                    Acknowledge
                  </button>
                ) : null}{' '}
                {muted ? (
                  <>
                    <span class="badge warn">muted until {new Date(i.muted_until!).toLocaleString()}</span>{' '}
                    <button
                      class="small"
                      aria-label={`Unmute incident ${i.id}`}
                      onClick={() => void act(`/api/alerts/incidents/${i.id}/mute`, { minutes: 0 })}
                    >
                      Unmute
                    </button>
                  </>
                ) : !i.closed_at ? (
                  <button
                    class="small"
                    aria-label={`Mute incident ${i.id}`}
                    onClick={() => void act(`/api/alerts/incidents/${i.id}/mute`, { minutes: muteFor })}
                  >
                    Mute
                  </button>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
