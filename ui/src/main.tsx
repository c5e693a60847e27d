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
import { Admins } from './pages/admins.js';
import { Docs } from './pages/docs.js';
import { Alerts } from './pages/alerts.js';
import { Archives } from './pages/archives.js';
import { DeploymentPage } from './pages/deployment.js';
import { MeContext, type Me } from './me.js';

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
  const onlyApp = me?.app ?? null;
  // Pages a token's scope cannot use are not offered (the API would only answer 403).
  const host = me?.can.includes('host') ?? false;
  const archives = me?.can.includes('archives') ?? false;
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
          {link('apps', onlyApp ?? 'Apps')}
          {host ? link('host', 'Host') : null}
          {host ? link('tokens', 'Tokens') : null}
          {host ? link('admins', 'Admins') : null}
          {archives ? link('archives', 'Deleted apps') : null}
          {host ? link('alerts', 'Alerts') : null}
          {host ? link('audit', 'Audit') : null}
          {link('docs', 'API')}
        </nav>
        <span class="who">{who}</span>
        <ThemeToggle />
        <button class="small" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <MeContext.Provider value={me}>{pageOf(page, arg, tab, onlyApp)}</MeContext.Provider>
    </>
  );
}

/** The page a route names; `onlyApp` is the app of an app-scoped token. */
function pageOf(page: string, arg: string, tab: string, onlyApp: string | null) {
  return (
    <>
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
      ) : page === 'admins' ? (
        <Admins />
      ) : page === 'audit' ? (
        <Audit />
      ) : page === 'docs' ? (
        <Docs />
      ) : page === 'alerts' ? (
        <Alerts />
      ) : page === 'archives' ? (
        <Archives />
      ) : page === 'deployments' && /^\d+$/.test(arg) ? (
        <DeploymentPage id={Number(arg)} />
      ) : (
        <NotFound />
      )}
    </>
  );
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
