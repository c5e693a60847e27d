import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import { DeploymentProgress, ErrorNote, ReleaseOptions, useLoad } from '../components.js';
import type { Release, ValidationReport } from '../types.js';
import { fieldMessages, parseDomains, parseEnvLines } from '../create-input.js';

/** Create an app: checked as you type, then the create followed step by step. */
export function CreateApp() {
  const [name, setName] = useState('');
  const [domains, setDomains] = useState('');
  const [version, setVersion] = useState('');
  const [memory, setMemory] = useState('');
  const [cpu, setCpu] = useState('');
  const [env, setEnv] = useState('');
  const [suEmail, setSuEmail] = useState('');
  const [suPassword, setSuPassword] = useState('');
  const [report, setReport] = useState<ValidationReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [deployment, setDeployment] = useState<number | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const seq = useRef(0);

  const listed = useLoad(() => api<{ releases: Release[] }>('GET', '/api/releases'), []);
  const releases = listed.data?.releases ?? [];

  const parsedDomains = parseDomains(domains);
  const parsedEnv = parseEnvLines(env);
  // What the form itself finds wrong, shown with what the API finds.
  const local = [...parsedDomains.errors, ...parsedEnv.errors];
  const body = () => {
    const b: Record<string, unknown> = { name, domains: parsedDomains.domains };
    if (version) b.pocketbase_version = version;
    if (memory) b.memory_max = memory;
    if (cpu) b.cpu_quota = Number(cpu);
    const vars = parsedEnv.env;
    if (Object.keys(vars).length) b.env = vars;
    if (suEmail || suPassword) b.superuser = { email: suEmail, password: suPassword };
    return b;
  };

  // Validate as you type: the newest answer wins.
  useEffect(() => {
    if (!name) {
      setReport(null);
      return;
    }
    const mine = ++seq.current;
    const t = setTimeout(() => {
      void api<ValidationReport>('POST', '/api/validate/app', body()).then(
        (r) => {
          if (mine === seq.current) setReport(r);
        },
        () => undefined,
      );
    }, 250);
    return () => clearTimeout(t);
  }, [name, domains, version, memory, cpu, env, suEmail, suPassword]);

  const errorsFor = (field: string): string[] =>
    fieldMessages([...local, ...(report?.errors ?? [])], field, parsedDomains.domains);
  const fieldError = (field: string) => {
    const errs = errorsFor(field);
    return errs.length ? (
      <span class="field-error" id={`${field}-error`} role="alert">
        {errs.join('; ')}
      </span>
    ) : null;
  };
  // Points at the field's message only while there is one.
  const described = (field: string) =>
    errorsFor(field).length
      ? { 'aria-invalid': true, 'aria-describedby': `${field}-error` }
      : { 'aria-invalid': false };

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await api<{ deployment_id: number }>('POST', '/api/apps', body());
      setDeployment(r.deployment_id);
    } catch (err) {
      setError(err);
      if (err instanceof ApiError && err.fields.length)
        setReport({
          ...(report ?? {
            valid: false,
            warnings: [],
            checks: {} as ValidationReport['checks'],
            resolved: { port: null, pocketbase_version: null },
          }),
          valid: false,
          errors: err.fields,
        });
    }
  };

  if (deployment !== null) {
    return (
      <main>
        <h1>Creating {name}</h1>
        <DeploymentProgress id={deployment} onEnd={(d) => setOutcome(d.status)} />
        {outcome === 'success' ? (
          <p>
            <a class="button" href={`#/apps/${name}`}>
              Open {name}
            </a>
          </p>
        ) : null}
        {outcome && outcome !== 'success' ? (
          <p>
            <button
              onClick={() => {
                setDeployment(null);
                setOutcome(null);
              }}
            >
              Back to the form
            </button>
          </p>
        ) : null}
      </main>
    );
  }

  return (
    <main>
      <h1>New app</h1>
      <form class="form" onSubmit={submit}>
        <label>
          Name{' '}
          <input
            name="name"
            value={name}
            required
            onInput={(e) => setName(e.currentTarget.value)}
            {...described('name')}
            placeholder="shop"
            autocomplete="off"
          />
        </label>
        {fieldError('name')}
        <label>
          Domains{' '}
          <input
            name="domains"
            value={domains}
            onInput={(e) => setDomains(e.currentTarget.value)}
            {...described('domains')}
            placeholder="shop.example.com"
          />
        </label>
        <span class="muted hint">Separated by commas, e.g. shop.example.com, www.shop.example.com.</span>
        {fieldError('domains')}
        <label>
          PocketBase version
          <select name="version" value={version} onChange={(e) => setVersion(e.currentTarget.value)}>
            <option value="">latest stable</option>
            <ReleaseOptions releases={releases} />
          </select>
        </label>
        {fieldError('pocketbase_version')}
        <div class="two">
          <label>
            Memory limit{' '}
            <input
              name="memory_max"
              value={memory}
              onInput={(e) => setMemory(e.currentTarget.value)}
              placeholder="512M"
            />
          </label>
          <label>
            CPU quota %{' '}
            <input
              name="cpu_quota"
              type="number"
              min="1"
              value={cpu}
              onInput={(e) => setCpu(e.currentTarget.value)}
              placeholder="100"
            />
          </label>
        </div>
        {fieldError('memory_max')}
        {fieldError('cpu_quota')}
        <label>
          Environment{' '}
          <textarea
            name="env"
            rows={3}
            value={env}
            onInput={(e) => setEnv(e.currentTarget.value)}
            placeholder={'SMTP_HOST=mail.example.com\nAPP_MODE=production'}
            {...described('env')}
          />
        </label>
        <span class="muted hint">One KEY=value a line; keys are letters, digits and _, not starting with a digit.</span>
        {fieldError('env')}
        <fieldset>
          <legend>PocketBase superuser (optional)</legend>
          <div class="two">
            <label>
              Email{' '}
              <input
                name="superuser_email"
                type="email"
                autocomplete="off"
                value={suEmail}
                onInput={(e) => setSuEmail(e.currentTarget.value)}
                {...described('superuser')}
              />
            </label>
            <label>
              Password{' '}
              <input
                name="superuser_password"
                type="password"
                autocomplete="new-password"
                value={suPassword}
                onInput={(e) => setSuPassword(e.currentTarget.value)}
                placeholder="at least 10 characters"
              />
            </label>
          </div>
          {fieldError('superuser')}
        </fieldset>
        {report?.warnings.length ? (
          <ul class="warnings" aria-label="Warnings">
            {report.warnings.map((w) => (
              <li key={w.code}>{w.message}</li>
            ))}
          </ul>
        ) : null}
        {report?.resolved.port ? (
          <p class="muted">
            Port {report.resolved.port}, PocketBase {report.resolved.pocketbase_version}
          </p>
        ) : null}
        <ErrorNote error={error ?? listed.error} />
        <button type="submit" disabled={!name || local.length > 0 || (report !== null && !report.valid)}>
          Create
        </button>
      </form>
    </main>
  );
}
