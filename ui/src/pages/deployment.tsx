import { api } from '../api.js';
import { DeploymentProgress, ErrorNote, useLoad } from '../components.js';
import type { Deployment } from '../types.js';

/** One deployment on its own page (#/deployments/N): its steps, live while it runs, and the way back to its app. */
export function DeploymentPage({ id }: { id: number }) {
  const { data, error } = useLoad(() => api<Deployment>('GET', `/api/deployments/${id}`), [id]);
  return (
    <main>
      <h1>Deployment #{id}</h1>
      <ErrorNote error={error} />
      {data ? (
        <>
          <p>
            <a href={`#/apps/${data.app}/deployments`}>All deployments of {data.app}</a>
          </p>
          <div class="panel">
            <DeploymentProgress id={id} />
          </div>
        </>
      ) : error ? null : (
        <p class="muted">Loading…</p>
      )}
    </main>
  );
}
