import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Empty, ErrorNote, useLoad, Table } from '../components.js';
import type { AuditRow } from '../types.js';

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
