import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { api, session, setUnauthorizedHandler } from './api.js';
import { useRoute } from './router.js';
import { Login } from './pages/login.js';
import { Apps } from './pages/apps.js';
import { CreateApp } from './pages/create.js';
import { AppPage } from './pages/app.js';
import { Audit, Host, Tokens } from './pages/host.js';

function Shell() {
  const [signedIn, setSignedIn] = useState(session.get() !== null);
  const [who, setWho] = useState<string>('');
  const route = useRoute();
  useEffect(() => { setUnauthorizedHandler(() => { session.clear(); setSignedIn(false); }); }, []);
  useEffect(() => {
    if (signedIn) void api<{ email: string | null; name: string }>('GET', '/api/auth/me').then((m) => setWho(m.email ?? m.name), () => undefined);
  }, [signedIn]);
  if (!signedIn) return <Login onDone={() => { setSignedIn(true); if (!location.hash) location.hash = '#/apps'; }} />;
  const signOut = async () => {
    await api('POST', '/api/auth/logout').catch(() => undefined);
    session.clear();
    setSignedIn(false);
  };
  const [page = 'apps', arg = '', tab = 'overview'] = route;
  const link = (href: string, label: string) => <a href={`#/${href}`} aria-current={page === href ? 'page' : undefined}>{label}</a>;
  return (
    <>
      <header class="top">
        <a class="brand" href="#/apps">pocketd</a>
        <nav aria-label="Main">{link('apps', 'Apps')}{link('host', 'Host')}{link('tokens', 'Tokens')}{link('audit', 'Audit')}</nav>
        <span class="who">{who}</span>
        <button class="small" onClick={() => void signOut()}>Sign out</button>
      </header>
      {page === 'new' ? <CreateApp />
        : page === 'apps' && arg ? <AppPage name={arg} tab={tab} />
        : page === 'host' ? <Host />
        : page === 'tokens' ? <Tokens />
        : page === 'audit' ? <Audit />
        : <Apps />}
    </>
  );
}

render(<Shell />, document.getElementById('root')!);
