import { useState } from 'preact/hooks';
import { api, ago } from '../api.js';
import { Badge, DeploymentProgress, Empty, ErrorNote, useLoad, Table } from '../components.js';
import type { Bundle, Deployment } from '../types.js';

type Summary = Omit<Deployment, 'steps'>;
const duration = (d: Summary) =>
  d.started_at && d.finished_at
    ? `${((Date.parse(d.finished_at) - Date.parse(d.started_at)) / 1000).toFixed(1)} s`
    : '—';

/** Deployments of the app; one opens with its steps, live while it runs. */
export function Deployments({ app }: { app: string }) {
  const { data, error, reload } = useLoad(
    () => api<{ deployments: Summary[] }>('GET', `/api/deployments?app=${app}&limit=100`),
    [app],
  );
  // A deploy names its bundle with the notes it was uploaded with (CI puts the commit there).
  const bundles = useLoad(() => api<{ bundles: Bundle[] }>('GET', `/api/apps/${app}/bundles`), [app]);
  const notes = new Map((bundles.data?.bundles ?? []).map((b) => [b.number, b.notes]));
  const [open, setOpen] = useState<number | null>(null);
  return (
    <section>
      <ErrorNote error={error} />
      {open !== null ? (
        <div class="panel">
          <button
            class="small"
            onClick={() => {
              setOpen(null);
              reload();
            }}
          >
            Close
          </button>
          <DeploymentProgress id={open} />
        </div>
      ) : null}
      {data?.deployments.length === 0 ? (
        <Empty>No deployments.</Empty>
      ) : (
        <Table label="Deployments table" head={['#', 'Kind', 'What', 'Status', 'By', 'When', 'Took', 'Error']}>
          {(data?.deployments ?? []).map((d) => (
            <tr key={d.id}>
              <td>
                <button class="link" onClick={() => setOpen(d.id)} aria-label={`Open deployment ${d.id}`}>
                  {d.id}
                </button>
              </td>
              <td>{d.kind}</td>
              <td class="clip" data-testid="what">
                {whatOf(d, notes)}
              </td>
              <td>
                <Badge value={d.status} />
              </td>
              <td>{d.actor}</td>
              <td>{ago(d.created_at)}</td>
              <td>{duration(d)}</td>
              <td class="clip">{d.error ?? ''}</td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}

/** What a deployment put in place: a bundle with its notes, a PocketBase version, a backup's data. */
function whatOf(d: Summary, notes: Map<number, string | null>): string {
  const p = d.params as {
    bundle?: unknown;
    version?: unknown;
    to?: { version?: unknown; bundle?: unknown };
    from?: { version?: unknown };
    restore_backup?: unknown;
  };
  const bundle = typeof p.to?.bundle === 'number' ? p.to.bundle : typeof p.bundle === 'number' ? p.bundle : null;
  const version = typeof p.to?.version === 'string' ? p.to.version : typeof p.version === 'string' ? p.version : null;
  const parts: string[] = [];
  if (version && (d.kind !== 'deploy' || p.from?.version !== version)) parts.push(`PocketBase ${version}`);
  if (bundle !== null && d.kind !== 'upgrade')
    parts.push(`bundle #${bundle}${notes.get(bundle) ? `: ${notes.get(bundle)}` : ''}`);
  if (typeof p.restore_backup === 'number') parts.push(`data of backup #${p.restore_backup}`);
  return parts.join(', ');
}
