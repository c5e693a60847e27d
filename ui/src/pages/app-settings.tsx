import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { DeploymentProgress, ErrorNote } from '../components.js';
import { flash, go } from '../router.js';
import type { AppDetail } from '../types.js';
import { parseDomains } from '../create-input.js';
import { PasswordField } from '../password-field.js';

/** An app's settings (domains, limits, backups), its PocketBase superuser, and its delete. */
export function Settings({ app, onDone }: { app: AppDetail; onDone: () => void }) {
  // The form's fields, as typed.
  const [form, setForm] = useState({
    domains: app.domains.join(', '),
    memory: app.memory_max ?? '',
    cpu: app.cpu_quota ? String(app.cpu_quota) : '',
    schedule: app.backup_schedule ?? '',
    keep: String(app.backup_keep),
    health: app.health_path,
    sleep: app.sleep_after ?? '',
  });
  const field = (k: keyof typeof form) => ({
    value: form[k],
    onInput: (e: { currentTarget: HTMLInputElement }) => setForm((f) => ({ ...f, [k]: e.currentTarget.value })),
  });
  // What the last save or delete said.
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  // The delete: the name typed to confirm it, then the deployment that runs it.
  const [confirm, setConfirm] = useState('');
  const [deleting, setDeleting] = useState<number | null>(null);
  const { domains, memory, cpu, schedule, keep, health, sleep } = form;
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setSaved(null);
    const parsed = parseDomains(domains);
    if (parsed.errors.length) {
      setError(new Error(parsed.errors.map((x) => x.message).join('; ')));
      return;
    }
    try {
      const r = await api<{ status: string; position?: number }>('PATCH', `/api/apps/${app.name}`, {
        domains: parsed.domains,
        memory_max: memory || null,
        cpu_quota: cpu ? Number(cpu) : null,
        backup_schedule: schedule || null,
        backup_keep: Number(keep),
        // PocketBase's own route is the default, kept as "none of its own".
        health_path: health.trim() === '' || health.trim() === '/api/health' ? null : health.trim(),
        // Sent only when changed: turning sleep on checks the app's hooks for scheduled jobs.
        ...(sleep !== (app.sleep_after ?? '') ? { sleep_after: sleep.trim() || 'off' } : {}),
      });
      setSaved(
        typeof r.position === 'number'
          ? `Queued behind ${r.position} operation(s); it is applied in its turn.`
          : r.status === 'success'
            ? 'Saved and applied.'
            : `Not applied: ${r.status}.`,
      );
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  const remove = async () => {
    setError(null);
    try {
      const r = await api<{ deployment_id: number; status: string }>('DELETE', `/api/apps/${app.name}`);
      if (r.status === 'success') {
        flash(`${app.name} was deleted; its data is archived.`);
        go('apps');
        return;
      }
      setDeleting(r.deployment_id);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section>
      <form class="form" onSubmit={save}>
        <label>
          Domains <input {...field('domains')} />
        </label>
        <div class="two">
          <label>
            Memory limit <input {...field('memory')} placeholder="none" />
          </label>
          <label>
            CPU quota % <input type="number" {...field('cpu')} placeholder="none" />
          </label>
        </div>
        <div class="two">
          <label>
            Backup schedule (cron) <input {...field('schedule')} placeholder="0 3 * * *" />
          </label>
          <label>
            Backups kept <input type="number" min="1" {...field('keep')} />
          </label>
        </div>
        <label>
          Health path <input {...field('health')} placeholder="/api/health" aria-describedby="health-hint" />
        </label>
        <span class="muted hint" id="health-hint">
          What must answer 200 on the app's port for a deploy to pass and for the checks (a route your hooks serve
          catches a hook that breaks routes but not start-up).
        </span>
        <div class="two">
          <label>
            Sleep when idle for <input {...field('sleep')} placeholder="off" aria-describedby="sleep-help" />
          </label>
          <p class="muted" id="sleep-help">
            A duration like 15m: with no open connection for that long the app stops, and its next request wakes it
            (held, not failed). Off (empty) keeps it running. Apps whose hooks schedule jobs (cronAdd) cannot sleep.
          </p>
        </div>
        <button type="submit">Save settings</button>
        {saved ? <p role="status">{saved}</p> : null}
      </form>
      <ErrorNote error={error} />
      <SuperuserForm app={app} />
      <section class="danger-zone">
        <h2>Delete {app.name}</h2>
        <p>The unit, site and environment are removed; the data is archived.</p>
        {deleting !== null ? (
          <DeploymentProgress
            id={deleting}
            onEnd={(d) => {
              if (d.status === 'success') {
                flash(`${app.name} was deleted; its data is archived.`);
                go('apps');
              }
            }}
          />
        ) : (
          <div class="row">
            <label class="confirm-name">
              <span>
                Type <code>{app.name}</code> to confirm
              </span>{' '}
              <input
                value={confirm}
                onInput={(e) => setConfirm(e.currentTarget.value)}
                aria-label="Confirm the app name"
              />
            </label>
            <button class="danger" disabled={confirm !== app.name} onClick={() => void remove()}>
              Delete app
            </button>
          </div>
        )}
      </section>
    </section>
  );
}

/** The app's PocketBase superuser: created, or its password set anew. */
function SuperuserForm({ app }: { app: AppDetail }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    setBusy(true);
    try {
      const r = await api<{ email?: string; position?: number }>('PUT', `/api/apps/${app.name}/superuser`, {
        email,
        password,
      });
      setPassword('');
      setResult(
        typeof r.position === 'number'
          ? `Queued behind ${r.position} operation(s).`
          : `Superuser ${r.email} is set; sign in at /_/.`,
      );
    } catch (x) {
      setError(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form" onSubmit={submit} aria-labelledby="su-title">
      <h2 id="su-title">PocketBase superuser</h2>
      <p class="muted">
        Creates the superuser, or sets a new password for one that exists. The app must be running or asleep.
      </p>
      <div class="two">
        <label>
          Superuser email{' '}
          <input
            type="email"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
            autocomplete="off"
          />
        </label>
        <PasswordField label="New password" value={password} onValue={setPassword} kind="new" required />
      </div>
      <button type="submit" disabled={busy || (app.state !== 'running' && app.state !== 'sleeping')}>
        {busy ? 'Setting…' : 'Set superuser'}
      </button>
      {result ? <p role="status">{result}</p> : null}
      <ErrorNote error={error} />
    </form>
  );
}
