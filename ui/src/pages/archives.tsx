import { useState } from 'preact/hooks';
import { api, ago, bytes, ApiError } from '../api.js';
import { ConfirmButton, DeploymentProgress, Empty, ErrorNote, Table, useLoad } from '../components.js';
import { StatusNote, useNotedAction } from '../noted-action.js';
import { parseDomains } from '../create-input.js';

interface Archive {
  id: number;
  name: string;
  deleted_at: string;
  size_bytes: number | null;
  pocketbase_version: string;
  domains: string[];
  env_keys: string[];
  sleep_after: number | null;
}
interface ArchiveList {
  archives: Archive[];
  keep_days: number;
  max: number;
}

/** One archive's restore form: the new app's name and domains (the old ones by default), then its progress. */
function RestoreForm({ a, onDone }: { a: Archive; onDone: () => void }) {
  const [name, setName] = useState(a.name);
  const [domains, setDomains] = useState(a.domains.join(', '));
  const [err, setErr] = useState<unknown>(null);
  const [running, setRunning] = useState<{ id: number; name: string } | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    const parsed = parseDomains(domains);
    if (parsed.errors.length) {
      setErr(new ApiError(422, 'VALIDATION_FAILED', 'check the domains', parsed.errors));
      return;
    }
    try {
      const r = await api<{ deployment_id: number; name: string }>('POST', `/api/archives/${a.id}/restore`, {
        name: name.trim(),
        domains: parsed.domains,
      });
      setRunning({ id: r.deployment_id, name: r.name });
    } catch (x) {
      setErr(x);
    }
  };
  if (running)
    return (
      <div>
        <DeploymentProgress id={running.id} onEnd={onDone} />
        <p>
          <a href={`#/apps/${running.name}`}>Open {running.name}</a>
        </p>
      </div>
    );
  return (
    <form class="form" onSubmit={submit} aria-label={`Restore ${a.name}`}>
      <ErrorNote error={err} />
      <div class="three">
        <label>
          New app's name <input value={name} onInput={(e) => setName(e.currentTarget.value)} required />
        </label>
        <label>
          Domains (comma-separated) <input value={domains} onInput={(e) => setDomains(e.currentTarget.value)} />
        </label>
      </div>
      <p class="muted">
        A new app: its data, settings and {a.env_keys.length} env variable(s) come back; the old app's tokens and
        backups do not. The archive stays until you delete it.
        {a.sleep_after !== null ? ' It comes back awake: set sleep_after again if you want it.' : ''}
      </p>
      <button type="submit">Restore</button>
    </form>
  );
}

/** Deleted apps (admins only): each archive with restore (as a new app) and delete for good. */
export function Archives() {
  const { data, error, reload } = useLoad(() => api<ArchiveList>('GET', '/api/archives'), []);
  const [open, setOpen] = useState<number | null>(null);
  const { err, note, run } = useNotedAction();
  const remove = (a: Archive) =>
    run(async () => {
      await api('DELETE', `/api/archives/${a.id}`);
      reload();
      return `The archive of ${a.name} was deleted.`;
    });
  const list = data?.archives ?? [];
  return (
    <main>
      <h1>Deleted apps</h1>
      <p class="muted">
        A delete without purge keeps the app's data, settings and env (sealed) here
        {data ? ` for ${data.keep_days} days, ${data.max} archives at most` : ''}.
      </p>
      <ErrorNote error={err ?? error} />
      <StatusNote note={note} />
      {data && list.length === 0 ? <Empty>No deleted app is archived.</Empty> : null}
      {list.length ? (
        <Table label="Deleted apps table" head={['Name', 'Deleted', 'Size', 'Version', 'Domains', 'Env', '']} cards>
          {list.map((a) => (
            <tr key={a.id}>
              <td>{a.name}</td>
              <td>
                <span class="card-label">Deleted </span>
                {ago(a.deleted_at)}
              </td>
              <td>
                <span class="card-label">Size: </span>
                {bytes(a.size_bytes)}
              </td>
              <td>
                <span class="card-label">Version: </span>
                {a.pocketbase_version}
              </td>
              <td>
                <span class="card-label">Domains: </span>
                {a.domains.join(', ') || '—'}
              </td>
              <td>
                <span class="card-label">Env: </span>
                {a.env_keys.length ? a.env_keys.join(', ') : '—'}
              </td>
              <td class="actions">
                <button class="small" onClick={() => setOpen(open === a.id ? null : a.id)}>
                  {open === a.id ? 'Close' : 'Restore…'}
                </button>
                <ConfirmButton
                  label="Delete"
                  danger
                  question={`Delete the archive of ${a.name} for good? Its data and env cannot come back.`}
                  onConfirm={() => void remove(a)}
                />
              </td>
            </tr>
          ))}
        </Table>
      ) : null}
      {list
        .filter((a) => a.id === open)
        .map((a) => (
          <section key={a.id} class="panel">
            <h2>Restore {a.name}</h2>
            <RestoreForm a={a} onDone={reload} />
          </section>
        ))}
    </main>
  );
}
