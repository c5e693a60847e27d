import { useState } from 'preact/hooks';
import { api, ago, bytes, download } from '../api.js';
import { useCan } from '../me.js';
import { Badge, ConfirmButton, DeploymentProgress, Empty, ErrorNote, useLoad, Table } from '../components.js';
import type { Backup } from '../types.js';

/** The app's backups: make one now, restore one (after asking), delete one. */
export function Backups({ app }: { app: string }) {
  const {
    data,
    error: loadError,
    reload,
  } = useLoad(() => api<{ backups: Backup[] }>('GET', `/api/apps/${app}/backups`), [app]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [running, setRunning] = useState<number | null>(null);
  const can = useCan();
  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      {can('backups.create') ? (
        <div class="row">
          <button disabled={busy} onClick={() => void act(() => api('POST', `/api/apps/${app}/backups`))}>
            {busy ? 'Working…' : 'Back up now'}
          </button>
        </div>
      ) : null}
      <ErrorNote error={error ?? loadError} />
      {running !== null ? <DeploymentProgress id={running} onEnd={reload} /> : null}
      {data?.backups.length === 0 ? (
        <Empty>No backups yet.</Empty>
      ) : (
        <Table label="Backups table" head={['#', 'Kind', 'Status', 'Size', 'When', '']} cards>
          {(data?.backups ?? []).map((b) => (
            <tr key={b.id}>
              <td>{b.id}</td>
              <td>{b.kind}</td>
              <td>
                <Badge value={b.status} />
              </td>
              <td>{bytes(b.size_bytes)}</td>
              <td>{ago(b.created_at)}</td>
              <td>
                <div class="actions">
                  {can('backups.download') ? (
                    <button
                      class="small"
                      disabled={b.status !== 'ready'}
                      aria-label={`Download backup ${b.id}`}
                      onClick={() =>
                        void act(() =>
                          download(`/api/apps/${app}/backups/${b.id}/download`, `${app}-backup-${b.id}.tar`),
                        )
                      }
                    >
                      Download
                    </button>
                  ) : null}
                  <ConfirmButton
                    label="Restore"
                    question={`Replace the app's data with backup ${b.id}?`}
                    hidden={!can('backups.restore')}
                    disabled={busy || b.status !== 'ready'}
                    onConfirm={() =>
                      void act(async () =>
                        setRunning(
                          (await api<{ deployment_id: number }>('POST', `/api/apps/${app}/backups/${b.id}/restore`))
                            .deployment_id,
                        ),
                      )
                    }
                  />
                  <ConfirmButton
                    label="Delete"
                    danger
                    question={`Delete backup ${b.id}?`}
                    hidden={!can('backups.delete')}
                    disabled={busy}
                    onConfirm={() => void act(() => api('DELETE', `/api/apps/${app}/backups/${b.id}`))}
                  />
                </div>
              </td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
