import { useState } from 'preact/hooks';
import { ApiError, api, ago } from '../api.js';
import { ConfirmButton, DeploymentProgress, ErrorNote, useLoad } from '../components.js';
import type { Replica } from '../types.js';

const EMPTY = { type: 's3', endpoint: '', bucket: '', path: '', region: 'us-east-1', key: '', secret: '' };
const EMPTY_SFTP = { host: '', port: '22', user: '', private_key: '' };

/** The app's off-host replica: its status, its target (set here, tried before it is saved), restore to a time. */
export function ReplicaPanel({ app }: { app: string }) {
  const load = useLoad(
    () =>
      api<Replica>('GET', `/api/apps/${app}/replica`).catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }),
    [app],
  );
  const [form, setForm] = useState(EMPTY);
  const [sftp, setSftp] = useState(EMPTY_SFTP);
  const [at, setAt] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [running, setRunning] = useState<number | null>(null);
  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      load.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const target = () =>
    form.type === 's3'
      ? {
          type: 's3',
          endpoint: form.endpoint,
          bucket: form.bucket,
          path: form.path,
          region: form.region,
          access_key_id: form.key,
          secret_access_key: form.secret,
        }
      : {
          type: 'sftp',
          host: sftp.host,
          port: Number(sftp.port),
          user: sftp.user,
          path: form.path,
          private_key: sftp.private_key,
        };
  const r = load.data;
  const text = (k: keyof typeof EMPTY, label: string, type = 'text') => (
    <label>
      {label}{' '}
      <input
        type={type}
        value={form[k]}
        onInput={(e) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value })}
      />
    </label>
  );
  return (
    <section aria-label="Replica">
      <ErrorNote error={error ?? load.error} />
      {r ? (
        <div class="panel">
          <p>
            Replicating to <strong>{String(r.target.type)}</strong> {String(r.target.endpoint ?? r.target.host ?? '')}{' '}
            {String(r.target.bucket ?? '')}/{String(r.target.path)} every {r.sync_seconds} s ({r.unit}).
          </p>
          <dl class="facts">
            <dt>Last sync</dt>
            <dd>{r.status.last_sync_at ? `${r.status.last_sync_at} (${ago(r.status.last_sync_at)})` : 'not yet'}</dd>
            <dt>Lag</dt>
            <dd>{r.status.lag_seconds === null ? '–' : `${r.status.lag_seconds} s`}</dd>
            <dt>Generation</dt>
            <dd>{r.status.generation ?? '–'}</dd>
            <dt>Checked</dt>
            <dd>{ago(r.status.checked_at)}</dd>
            <dt>Error</dt>
            <dd role={r.status.error ? 'alert' : undefined}>{r.status.error ?? 'none'}</dd>
          </dl>
          <div class="row">
            <button disabled={busy} onClick={() => void act(() => api('POST', `/api/apps/${app}/replica/check`))}>
              Check now
            </button>
            <label>
              Restore to (UTC, empty: latest){' '}
              <input
                value={at}
                placeholder="2026-11-30T01:02:03Z"
                onInput={(e) => setAt((e.target as HTMLInputElement).value)}
              />
            </label>
            <ConfirmButton
              label="Restore"
              question={`Replace ${app}'s data with its replica ${at || 'as of now'}? A snapshot is taken first.`}
              disabled={busy}
              onConfirm={() =>
                void act(async () =>
                  setRunning(
                    (
                      await api<{ deployment_id: number }>('POST', `/api/apps/${app}/restore`, {
                        timestamp: at || null,
                      })
                    ).deployment_id,
                  ),
                )
              }
            />
          </div>
          {running !== null ? <DeploymentProgress id={running} onEnd={load.reload} /> : null}
        </div>
      ) : (
        <p class="muted">This app is not replicated off the host yet.</p>
      )}
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          void act(() => api('PUT', `/api/apps/${app}/replica`, { target: target() }));
        }}
      >
        <h2>{r ? 'Change the target' : 'Set a target'}</h2>
        <label>
          Kind{' '}
          <select value={form.type} onChange={(e) => setForm({ ...form, type: (e.target as HTMLSelectElement).value })}>
            <option value="s3">S3-compatible</option>
            <option value="sftp">SFTP</option>
          </select>
        </label>
        {form.type === 's3' ? (
          <>
            {text('endpoint', 'Endpoint')}
            <div class="two">
              {text('bucket', 'Bucket')}
              {text('region', 'Region')}
            </div>
            <div class="two">
              {text('key', 'Access key id')}
              {text('secret', 'Secret access key', 'password')}
            </div>
          </>
        ) : (
          <>
            <div class="two">
              <label>
                Host{' '}
                <input
                  value={sftp.host}
                  onInput={(e) => setSftp({ ...sftp, host: (e.target as HTMLInputElement).value })}
                />
              </label>
              <label>
                User{' '}
                <input
                  value={sftp.user}
                  onInput={(e) => setSftp({ ...sftp, user: (e.target as HTMLInputElement).value })}
                />
              </label>
            </div>
            <label>
              Private key (OpenSSH, no passphrase){' '}
              <textarea
                value={sftp.private_key}
                onInput={(e) => setSftp({ ...sftp, private_key: (e.target as HTMLTextAreaElement).value })}
              />
            </label>
          </>
        )}
        {text('path', form.type === 's3' ? 'Path in the bucket' : 'Directory on the server')}
        <button type="submit" disabled={busy}>
          {busy ? 'Trying the target…' : 'Try and save'}
        </button>
      </form>
    </section>
  );
}
