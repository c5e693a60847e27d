import { useState } from 'preact/hooks';
import { ApiError, api, session } from '../api.js';

/** Sign in with an email and password, or paste an API token. */
export function Login({ onDone }: { onDone: () => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  // After a right password of an admin with two-factor sign-in: the code from its authenticator app.
  const [needCode, setNeedCode] = useState(false);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (token) {
        session.set(token.trim());
        await api('GET', '/api/auth/me');
      } else {
        const body = needCode ? { email, password, code } : { email, password };
        const r = await api<{ token: string }>('POST', '/api/auth/login', body);
        session.set(r.token);
      }
      onDone();
    } catch (err) {
      session.clear();
      if (err instanceof ApiError && err.code === 'TOTP_REQUIRED') {
        setNeedCode(true);
        setError(null);
        return;
      }
      setError(err instanceof ApiError ? err.message : 'pocketd could not be reached');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to pocketd</h1>
        <label>
          Email{' '}
          <input
            type="email"
            name="email"
            autocomplete="username"
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </label>
        <label>
          Password{' '}
          <input
            type="password"
            name="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {needCode ? (
          <label>
            Authentication code{' '}
            <input
              name="code"
              inputMode="numeric"
              autocomplete="one-time-code"
              aria-describedby="code-help"
              value={code}
              onInput={(e) => setCode(e.currentTarget.value.trim())}
              autoFocus
            />
            <span id="code-help" class="muted">
              The 6-digit code of your authenticator app, or a recovery code.
            </span>
          </label>
        ) : null}
        <details>
          <summary>Use an API token instead</summary>
          <label>
            Token{' '}
            <input
              type="password"
              name="token"
              autocomplete="off"
              value={token}
              onInput={(e) => setToken(e.currentTarget.value)}
            />
          </label>
        </details>
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
