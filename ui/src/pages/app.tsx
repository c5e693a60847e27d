import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, stream } from '../api.js';
import { Badge, ErrorNote, useLoad } from '../components.js';
import { LogView } from '../logview.js';
import type { AppDetail, Deployment } from '../types.js';
import { Backups } from './app-backups.js';
import { ReplicaPanel } from './app-replica.js';
import { Deploy } from './app-deploy.js';
import { Deployments } from './app-deployments.js';
import { EnvEditor } from './app-env.js';
import { Overview } from './app-overview.js';
import { Settings } from './app-settings.js';
import { AdminLink, Controls, Queue } from './app-controls.js';
import { useCan } from '../me.js';

const TABS = ['overview', 'logs', 'deployments', 'deploy', 'backups', 'replica', 'env', 'settings'] as const;
/** The ability a tab needs to be of any use; the others need only reading. */
const TAB_NEEDS: Partial<Record<(typeof TABS)[number], string>> = {
  deploy: 'app.deploy',
  env: 'app.env',
  settings: 'app.settings',
  replica: 'app.replica',
};

/** One app: every tab of what can be seen and done with it. */
export function AppPage({ name, tab }: { name: string; tab: string }) {
  const { data: app, error, reload } = useLoad(() => api<AppDetail>('GET', `/api/apps/${name}`), [name]);

  const queue = useLoad(() => loadQueue(name), [name]);
  // Health changes reach the overview as they happen.
  const [healthSeen, setHealthSeen] = useState(0);
  useEffect(() => {
    const ctrl = new AbortController();
    void stream(
      `/api/events?app=${name}`,
      (e) => {
        if (e.event === 'app.health' || e.event === 'app.state') setHealthSeen((n) => n + 1);
        if (e.event.startsWith('app.') || e.event === 'deployment.finished') reload();
        if (['deployment.queued', 'deployment.started', 'deployment.finished'].includes(e.event)) queue.reload();
      },
      ctrl.signal,
    );
    return () => ctrl.abort();
  }, [name]);
  const can = useCan();
  const tabs = TABS.filter((t) => !TAB_NEEDS[t] || can(TAB_NEEDS[t]));
  const current = (tabs as readonly string[]).includes(tab) ? tab : 'overview';
  if (!app && error instanceof ApiError && (error.status === 404 || error.status === 403)) {
    return (
      <main>
        <h1>{name}</h1>
        <div class="panel" role="alert">
          <p>
            {error.status === 404
              ? `There is no app named ${name} (it may have been deleted).`
              : `This token may not see ${name}: ${error.message}`}
          </p>
          <a class="button" href="#/apps">
            Back to the apps
          </a>
        </div>
      </main>
    );
  }
  return (
    <main>
      <div class="row spread">
        <h1>
          {name} {app ? <Badge value={app.state} /> : null}
        </h1>
        {app && can('app.control') ? <Controls app={app} queue={queue.data ?? []} onDone={reload} /> : null}
      </div>
      {app ? <AdminLink app={app} /> : null}
      <ErrorNote error={error} />
      <Queue items={queue.data ?? []} onChange={queue.reload} />
      <nav class="tabs" aria-label="App sections">
        {tabs.map((t) => (
          <a key={t} href={`#/apps/${name}/${t}`} aria-current={t === current ? 'page' : undefined}>
            {t}
          </a>
        ))}
      </nav>
      {!app ? (
        error ? null : (
          <p class="muted">Loading…</p>
        )
      ) : current === 'overview' ? (
        <Overview app={app} changes={healthSeen} />
      ) : current === 'logs' ? (
        <LogView app={name} />
      ) : current === 'deployments' ? (
        <Deployments app={name} />
      ) : current === 'deploy' ? (
        <Deploy app={app} onDone={reload} />
      ) : current === 'backups' ? (
        <Backups app={name} />
      ) : current === 'replica' ? (
        <ReplicaPanel app={name} />
      ) : current === 'env' ? (
        <EnvEditor app={name} />
      ) : (
        <Settings app={app} onDone={reload} />
      )}
    </main>
  );
}

/** What runs for the app now and what waits behind it, oldest first. */
async function loadQueue(name: string): Promise<Deployment[]> {
  const [active, waiting] = await Promise.all([
    api<{ deployments: Deployment[] }>('GET', `/api/deployments?app=${name}&status=running&limit=5`),
    api<{ deployments: Deployment[] }>('GET', `/api/deployments?app=${name}&status=queued&limit=100`),
  ]);
  return [...active.deployments, ...waiting.deployments.reverse()];
}
