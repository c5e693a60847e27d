import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { api, session, setUnauthorizedHandler } from './api.js';
import { useRoute } from './router.js';
import { Login } from './pages/login.js';
import { Apps } from './pages/apps.js';
import { CreateApp } from './pages/create.js';
import { AppPage } from './pages/app.js';
import { Audit } from './pages/audit.js';
import { Host } from './pages/host.js';
import { Tokens } from './pages/tokens.js';
import { Docs } from './pages/docs.js';
import { Alerts } from './pages/alerts.js';

function Shell() {
  const [signedIn, setSignedIn] = useState(session.get() !== null);
  const [me, setMe] = useState<Me | null>(null);
  const route = useRoute();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      session.clear();
      setSignedIn(false);
    });
  }, []);
  useEffect(() => {
    if (signedIn) void api<Me>('GET', '/api/auth/me').then(setMe, () => undefined);
  }, [signedIn]);
  if (!signedIn)
    return (
      <Login
        onDone={() => {
          setSignedIn(true);
          if (!location.hash) location.hash = '#/apps';
        }}
      />
    );
  const signOut = async () => {
    await api('POST', '/api/auth/logout').catch(() => undefined);
    session.clear();
    setSignedIn(false);
  };
  const [page = 'apps', arg = '', tab = 'overview'] = route;
  // A token for one app sees that app only: its Apps page is that app.
  const onlyApp = me && /^app:([a-z0-9-]+):/.exec(me.scope)?.[1];
  const who = !me ? '' : me.kind === 'session' ? (me.email ?? me.name) : `token:${me.name} (${me.scope})`;
  const link = (href: string, label: string) => (
    <a href={`#/${href}`} aria-current={page === href ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <header class="top">
        <a class="brand" href="#/apps">
          pocketd
        </a>
        <nav aria-label="Main">
          {link('apps', 'Apps')}
          {link('host', 'Host')}
          {link('tokens', 'Tokens')}
          {link('alerts', 'Alerts')}
          {link('audit', 'Audit')}
          {link('docs', 'API')}
        </nav>
        <span class="who">{who}</span>
        <ThemeToggle />
        <button class="small" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      {page === 'new' ? (
        <CreateApp />
      ) : page === 'apps' && arg ? (
        <AppPage name={arg} tab={tab} />
      ) : page === 'apps' && onlyApp ? (
        <AppPage name={onlyApp} tab="overview" />
      ) : page === 'apps' ? (
        <Apps />
      ) : page === 'host' ? (
        <Host />
      ) : page === 'tokens' ? (
        <Tokens />
      ) : page === 'audit' ? (
        <Audit />
      ) : page === 'docs' ? (
        <Docs />
      ) : page === 'alerts' ? (
        <Alerts />
      ) : (
        <NotFound />
      )}
    </>
  );
}

interface Me {
  name: string;
  email: string | null;
  scope: string;
  kind: string;
}

const THEME = 'pocketd.theme';
const THEMES = ['system', 'light', 'dark'] as const;
const applyTheme = (t: string) => {
  if (t === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = t;
};
applyTheme(localStorage.getItem(THEME) ?? 'system');

/** Light, dark, or as the system says; remembered in this browser. */
function ThemeToggle() {
  const [theme, setTheme] = useState(localStorage.getItem(THEME) ?? 'system');
  const next = THEMES[(THEMES.indexOf(theme as (typeof THEMES)[number]) + 1) % THEMES.length]!;
  const choose = () => {
    localStorage.setItem(THEME, next);
    applyTheme(next);
    setTheme(next);
  };
  return (
    <button class="small" onClick={choose} aria-label={`Theme: ${theme}; switch to ${next}`}>
      Theme: {theme}
    </button>
  );
}

function NotFound() {
  return (
    <main>
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{location.hash || '/'}</code>.
      </p>
      <a class="button" href="#/apps">
        Go to the apps
      </a>
    </main>
  );
}

render(<Shell />, document.getElementById('root')!);
