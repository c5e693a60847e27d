import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ErrorNote, useLoad } from '../components.js';
import { StatusNote, useNotedAction } from '../noted-action.js';
import { PasswordField } from '../password-field.js';

interface TotpStatus {
  enabled: boolean;
  enabled_at: string | null;
  recovery_codes_left: number;
}

/** The signed-in admin's own password (its other sessions end) and two-factor sign-in. */
export function Account({ onChange }: { onChange: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const { err, note, run } = useNotedAction();
  const change = (e: Event) => {
    e.preventDefault();
    return run(async () => {
      await api('POST', '/api/auth/password', { current_password: current, new_password: next });
      setCurrent('');
      setNext('');
      onChange();
      return 'Password changed. Your other sessions were signed out.';
    });
  };
  return (
    <>
      <h2>Your password</h2>
      <form class="form" onSubmit={change} aria-label="Change your password">
        <div class="three">
          <PasswordField label="Current password" value={current} onValue={setCurrent} kind="current" required />
          <PasswordField label="New password" value={next} onValue={setNext} kind="new" required />
        </div>
        <button type="submit">Change password</button>
      </form>
      <ErrorNote error={err} />
      <StatusNote note={note} />
      <TwoFactor onChange={onChange} />
    </>
  );
}

function TwoFactor({ onChange }: { onChange: () => void }) {
  const status = useLoad(() => api<TotpStatus>('GET', '/api/auth/totp'), []);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [enrolling, setEnrolling] = useState<{ secret: string; otpauth_uri: string } | null>(null);
  const [recovery, setRecovery] = useState<string[] | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const act = async (fn: () => Promise<void>) => {
    setErr(null);
    try {
      await fn();
      setPassword('');
      setCode('');
      status.reload();
      onChange();
    } catch (x) {
      setErr(x);
    }
  };
  const start = (e: Event) => {
    e.preventDefault();
    void act(async () => setEnrolling(await api('POST', '/api/auth/totp/enrol', { password })));
  };
  const confirm = (e: Event) => {
    e.preventDefault();
    void act(async () => {
      setRecovery((await api<{ recovery_codes: string[] }>('POST', '/api/auth/totp/confirm', { code })).recovery_codes);
      setEnrolling(null);
    });
  };
  const off = (e: Event) => {
    e.preventDefault();
    void act(() => api('POST', '/api/auth/totp/disable', code ? { code } : { password }));
  };
  const s = status.data;
  const codeInput = (label: string) => (
    <label>
      {label}{' '}
      <input
        value={code}
        inputMode="numeric"
        autocomplete="one-time-code"
        onInput={(e) => setCode(e.currentTarget.value.trim())}
      />
    </label>
  );
  const passwordInput = <PasswordField label="Password" value={password} onValue={setPassword} kind="current" />;
  return (
    <section aria-labelledby="totp-title">
      <h2 id="totp-title">Two-factor sign-in</h2>
      <ErrorNote error={err ?? status.error} />
      {recovery ? (
        <div class="panel" role="status">
          <p>
            Two-factor sign-in is on. Keep these recovery codes somewhere safe; each works once and they are not shown
            again:
          </p>
          <code class="secret" data-testid="recovery-codes">
            {recovery.join('  ')}
          </code>
          <button class="small" onClick={() => setRecovery(null)}>
            I have kept them
          </button>
        </div>
      ) : null}
      {!s ? null : s.enabled ? (
        <form class="form" onSubmit={off} aria-label="Turn off two-factor sign-in">
          <p>
            On since {s.enabled_at?.slice(0, 10)}; {s.recovery_codes_left} recovery codes left. To turn it off, give a
            code (or a recovery code) or your password.
          </p>
          <div class="three">
            {codeInput('Code')}
            {passwordInput}
          </div>
          <button type="submit" class="danger">
            Turn off two-factor sign-in
          </button>
        </form>
      ) : enrolling ? (
        <form class="form" onSubmit={confirm} aria-label="Confirm two-factor sign-in">
          <p>Add this key to your authenticator app (it is shown once), then enter the code it shows:</p>
          <code class="secret" data-testid="totp-secret">
            {enrolling.secret}
          </code>
          <p class="muted">Or as an otpauth link:</p>
          <code class="secret" data-testid="totp-uri">
            {enrolling.otpauth_uri}
          </code>
          {codeInput('Code from the app')}
          <button type="submit">Turn on</button>
        </form>
      ) : (
        <form class="form" onSubmit={start} aria-label="Set up two-factor sign-in">
          <p>Off: your password alone signs you in. With it on, a code from an authenticator app is asked too.</p>
          {passwordInput}
          <button type="submit">Set up two-factor sign-in</button>
        </form>
      )}
    </section>
  );
}
