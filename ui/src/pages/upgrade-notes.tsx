import { api } from '../api.js';
import { ErrorNote, useLoad } from '../components.js';
import type { UpgradeNotes as Notes } from '../types.js';

/**
 * What moving the app to `to` crosses, shown in the upgrade form before the
 * owner confirms: a warning for a downgrade, one for each breaking release
 * crossed, the refusal when pocketd will not do it as an upgrade, and the
 * release notes in between (folded).
 */
export function UpgradeNotes({ app, to }: { app: string; to: string }) {
  const { data, error } = useLoad(
    () => api<Notes>('GET', `/api/apps/${app}/upgrade-notes?to=${encodeURIComponent(to)}`),
    [app, to],
  );
  if (error) return <ErrorNote error={error} />;
  if (!data || data.to !== to) return <p class="muted">Reading the release notes…</p>;
  return (
    <div class="upgrade-notes" aria-label="Upgrade notes">
      {data.direction === 'downgrade' || data.breaking.length || data.refused ? (
        <ul class="warnings" aria-label="Upgrade warnings">
          {data.direction === 'downgrade' ? (
            <li>
              Downgrade: PocketBase {data.to} is older than {data.from}, which may already have changed the data in ways{' '}
              {data.to} does not know.
            </li>
          ) : null}
          {data.refused ? <li>{data.refused.message}.</li> : null}
          {data.breaking.map((b) => (
            <li key={b.version}>
              Breaking release {b.version} {data.direction === 'downgrade' ? 'undone' : 'crossed'}: {b.summary}.
              <ul>
                {b.changes.map((c) => (
                  <li key={c}>{c}</li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      ) : null}
      {data.breaking.length ? null : (
        <p class="muted">
          No breaking release between {data.from} and {data.to}.
        </p>
      )}
      <details>
        <summary>
          Release notes of {data.releases.length} release{data.releases.length === 1 ? '' : 's'} between {data.from} and{' '}
          {data.to}
        </summary>
        {data.releases.map((r) => (
          <section key={r.version} aria-label={`Notes of ${r.version}`}>
            <h3>{r.version}</h3>
            <pre class="release-notes">
              {r.notes || '(no notes)'}
              {r.notes_truncated ? '\n…(cut here)' : ''}
            </pre>
          </section>
        ))}
      </details>
    </div>
  );
}
