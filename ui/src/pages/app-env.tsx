import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorNote, useLoad } from '../components.js';
import { LeaveDialog, useUnsavedGuard } from '../unsaved.js';

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The app's environment: rows to add, change and remove; unsaved changes are not lost by leaving unwarned. */
export function EnvEditor({ app }: { app: string }) {
  const [rows, setRows] = useState<Array<[string, string]> | null>(null);
  const [saved, setSaved] = useState<string>('[]');
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const take = (env: Record<string, string>) => {
    const r = Object.entries(env);
    setRows(r);
    setSaved(JSON.stringify(r));
  };
  const loaded = useLoad(() => api<{ env: Record<string, string> }>('GET', `/api/apps/${app}/env`), [app]);
  useEffect(() => {
    if (loaded.data) take(loaded.data.env);
  }, [loaded.data]);
  const dirty = rows !== null && JSON.stringify(rows) !== saved;
  const leaving = useUnsavedGuard(dirty);
  const save = async (restart: boolean) => {
    setError(null);
    setResult(null);
    try {
      const r = await api<{
        env?: Record<string, string>;
        changed?: boolean;
        restart_required?: boolean;
        restarted?: boolean;
        position?: number;
      }>('PUT', `/api/apps/${app}/env${restart ? '?restart=1' : ''}`, {
        env: Object.fromEntries(rows!.filter(([k, v]) => k || v)),
      });
      if (typeof r.position === 'number' || !r.env) {
        setSaved(JSON.stringify(rows));
        setResult(`Queued behind ${r.position ?? 0} operation(s); it is saved in its turn.`);
        return;
      }
      take(r.env);
      setResult(
        !r.changed
          ? 'Nothing changed.'
          : r.restarted
            ? 'Saved; the app was restarted.'
            : r.restart_required
              ? 'Saved; restart the app to use it.'
              : 'Saved.',
      );
    } catch (e) {
      setError(e);
    }
  };
  if (!rows) return <ErrorNote error={error ?? loaded.error} />;
  const set = (i: number, at: 0 | 1, v: string) =>
    setRows(rows.map((r, j) => (j === i ? (at === 0 ? [v, r[1]] : [r[0], v]) : r)));
  return (
    <section class="form">
      <p class="muted">
        Keys are letters, digits and _, not starting with a digit. Values of secret-looking keys are masked; leave a
        mask as it is to keep the stored value.
      </p>
      {rows.length === 0 ? <p class="muted">No variables.</p> : null}
      {rows.map(([k, v], i) => (
        <div class="env-row" key={i}>
          <label>
            Key{' '}
            <input
              value={k}
              aria-invalid={k !== '' && !ENV_KEY.test(k)}
              onInput={(e) => set(i, 0, e.currentTarget.value)}
            />
          </label>
          <label>
            Value{' '}
            <input
              value={v}
              type={v === '********' ? 'password' : 'text'}
              onInput={(e) => set(i, 1, e.currentTarget.value)}
            />
          </label>
          <button
            class="small"
            onClick={() => setRows(rows.filter((_, j) => j !== i))}
            aria-label={`Remove ${k || 'this variable'}`}
          >
            Remove
          </button>
          {k !== '' && !ENV_KEY.test(k) ? (
            <span class="field-error">{k}: keys must be letters, digits and _, not starting with a digit</span>
          ) : null}
        </div>
      ))}
      <div class="row">
        <button onClick={() => setRows([...rows, ['', '']])}>Add variable</button>
        <button onClick={() => void save(false)} disabled={!dirty}>
          Save
        </button>
        <button onClick={() => void save(true)} disabled={!dirty}>
          Save and restart
        </button>
        {dirty ? (
          <span class="muted" role="status">
            Unsaved changes
          </span>
        ) : null}
      </div>
      {leaving.target !== null ? (
        <LeaveDialog onLeave={leaving.leave} onStay={leaving.stay} what="the environment" />
      ) : null}
      {result ? <p role="status">{result}</p> : null}
      <ErrorNote error={error ?? loaded.error} />
    </section>
  );
}
