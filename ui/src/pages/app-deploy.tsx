import { useEffect, useState } from 'preact/hooks';
import { api, ago, bytes, upload } from '../api.js';
import { Badge, ConfirmButton, DeploymentProgress, Empty, ErrorNote, ReleaseOptions, useLoad } from '../components.js';
import type { AppDetail, Bundle, Deployment } from '../types.js';
import { UpgradeNotes } from './upgrade-notes.js';

type Summary = Omit<Deployment, 'steps'>;

/** Upgrade (version picker), bundle upload with progress, deploy and rollback. */
export function Deploy({ app, onDone }: { app: AppDetail; onDone: () => void }) {
  const releases = useLoad(
    () => api<{ releases: Array<{ version: string; latest: boolean; prerelease: boolean }> }>('GET', '/api/releases'),
    [],
  );
  const bundles = useLoad(() => api<{ bundles: Bundle[] }>('GET', `/api/apps/${app.name}/bundles`), [app.name]);
  const good = useLoad(
    () => api<{ deployments: Summary[] }>('GET', `/api/deployments?app=${app.name}&status=success&limit=50`),
    [app.name, app.updated_at],
  );
  const [version, setVersion] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [notes, setNotes] = useState('');
  const [progress, setProgress] = useState<number | null>(null);
  const [running, setRunning] = useState<number | null>(null);
  const [runningEnded, setRunningEnded] = useState(false);
  const [uploaded, setUploaded] = useState<string | null>(null);
  const [withData, setWithData] = useState(false);
  const [downgrade, setDowngrade] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // An older release is a downgrade: said so, and only sent when ticked (the API refuses it otherwise).
  const older = version !== '' && isOlder(version, app.version);
  // The picker shows the version the app runs now (after an upgrade too) until another is chosen.
  useEffect(() => {
    setVersion(app.version);
  }, [app.version]);
  const listed = releases.data?.releases ?? [];
  const choices = listed.some((r) => r.version === app.version)
    ? listed
    : [{ version: app.version, latest: false, prerelease: false }, ...listed];
  // The newest successful release-setting deployment is where the app is now; the ones before it can be returned to.
  const earlier = (good.data?.deployments ?? [])
    .filter((d) => ['create', 'upgrade', 'deploy', 'rollback', 'restore'].includes(d.kind))
    .slice(1, 11);
  const start = async (path: string, body: unknown) => {
    setError(null);
    try {
      setRunningEnded(false);
      setRunning((await api<{ deployment_id: number }>('POST', path, body)).deployment_id);
    } catch (e) {
      setError(e);
    }
  };
  const send = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    const form = new FormData();
    form.set('file', file);
    if (notes) form.set('notes', notes);
    setError(null);
    setUploaded(null);
    setProgress(0);
    const formEl = e.currentTarget as HTMLFormElement;
    try {
      const b = await upload<Bundle>(`/api/apps/${app.name}/bundles`, form, setProgress);
      bundles.reload();
      setFile(null);
      setNotes('');
      formEl.reset();
      setUploaded(`Uploaded bundle #${b.number} (${bytes(b.size_bytes)}); deploy it from the list.`);
    } catch (err) {
      setError(err);
    } finally {
      setProgress(null);
    }
  };
  return (
    <section class="grid">
      <ErrorNote error={error} />
      {running !== null ? (
        <div class="panel">
          <DeploymentProgress
            id={running}
            onEnd={() => {
              setRunningEnded(true);
              onDone();
              bundles.reload();
              good.reload();
            }}
          />
          {runningEnded ? (
            <button class="small" onClick={() => setRunning(null)}>
              Done
            </button>
          ) : null}
        </div>
      ) : null}
      <form
        class="form"
        onSubmit={(e) => {
          e.preventDefault();
          void start(`/api/apps/${app.name}/upgrade`, { version, allow_downgrade: older && downgrade });
        }}
      >
        <h2>Upgrade PocketBase</h2>
        <p class="muted">
          Now on {app.version}. The data is snapshotted first; a failed health check rolls everything back.
        </p>
        <label>
          Version{' '}
          <select
            value={version}
            onChange={(e) => {
              setVersion(e.currentTarget.value);
              setDowngrade(false);
            }}
          >
            <ReleaseOptions releases={choices} current={app.version} />
          </select>
        </label>
        {choices.some((r) => r.version === version) ? <UpgradeNotes app={app.name} to={version} /> : null}
        {older ? (
          <div class="warn" role="alert">
            <p>
              {version} is older than {app.version}: this is a downgrade. The older release may not open data the newer
              one wrote; a backup is taken first.
            </p>
            <label>
              <input type="checkbox" checked={downgrade} onChange={(e) => setDowngrade(e.currentTarget.checked)} />{' '}
              Downgrade anyway
            </label>
          </div>
        ) : null}
        <button
          type="submit"
          disabled={
            version === app.version ||
            !choices.some((r) => r.version === version) ||
            (older && !downgrade) ||
            (running !== null && !runningEnded)
          }
        >
          {older ? 'Downgrade' : 'Upgrade'}
        </button>
      </form>
      <form class="form" onSubmit={send}>
        <h2>Upload a bundle</h2>
        <p class="muted">A zip of pb_public/, pb_hooks/ and pb_migrations/.</p>
        <label>
          Zip file{' '}
          <input
            type="file"
            accept=".zip,application/zip"
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
          />
        </label>
        <label>
          Notes <input value={notes} onInput={(e) => setNotes(e.currentTarget.value)} />
        </label>
        {progress !== null ? <progress max={1} value={progress} aria-label="Upload progress" /> : null}
        <button type="submit" disabled={!file || progress !== null}>
          Upload
        </button>
        {uploaded ? <p role="status">{uploaded}</p> : null}
      </form>
      <div>
        <h2>Bundles</h2>
        {bundles.data?.bundles.length === 0 ? (
          <Empty>No bundles uploaded.</Empty>
        ) : (
          <ul class="list">
            {(bundles.data?.bundles ?? []).map((b) => (
              <li key={b.number}>
                <strong>#{b.number}</strong> {bytes(b.size_bytes)}, {b.files} files ({b.dirs.join(', ')}){' '}
                {ago(b.created_at)} {b.notes ? `— ${b.notes}` : ''}
                {app.bundle === b.number ? (
                  <Badge value="running" />
                ) : (
                  <button
                    class="small"
                    disabled={running !== null}
                    onClick={() => void start(`/api/apps/${app.name}/deploy`, { bundle: b.number })}
                  >
                    Deploy
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </div>
      <div>
        <h2>Roll back</h2>
        {earlier.length === 0 ? (
          <Empty>No earlier successful deployment to return to.</Empty>
        ) : (
          <label class="check">
            <input type="checkbox" checked={withData} onChange={(e) => setWithData(e.currentTarget.checked)} /> Also put
            the data back as it was then (from the snapshot taken before the next change)
          </label>
        )}
        <ul class="list">
          {earlier.map((d) => (
            <li key={d.id}>
              #{d.id} {d.kind}: PocketBase {releaseOf(d).version}
              {releaseOf(d).bundle ? `, bundle #${releaseOf(d).bundle}` : ', no bundle'}{' '}
              <span class="muted">{ago(d.finished_at)}</span>{' '}
              <ConfirmButton
                label="Return to this"
                question={`Return to #${d.id}${withData ? ' with its data' : ''}?`}
                disabled={running !== null && !runningEnded}
                onConfirm={() => void start(`/api/apps/${app.name}/rollback`, { deployment_id: d.id, data: withData })}
              />
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}

/** The release a deployment left the app on (what a rollback to it returns to). */
function releaseOf(d: Summary): { version: string; bundle: number | null } {
  const p = d.params as {
    version?: unknown;
    to?: { version?: unknown; bundle?: unknown };
    pocketbase_version?: unknown;
    bundle?: unknown;
  };
  const version = p.to?.version ?? p.version ?? p.pocketbase_version;
  const bundle = p.to?.bundle ?? p.bundle;
  return { version: typeof version === 'string' ? version : '?', bundle: typeof bundle === 'number' ? bundle : null };
}

/** Whether PocketBase version `a` is older than `b` (a prerelease is older than its release). */
function isOlder(a: string, b: string): boolean {
  const parts = (v: string) => v.split('-')[0]!.split('.').map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0);
  return a.includes('-') && !b.includes('-');
}
