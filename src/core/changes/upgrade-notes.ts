import type { UpgradeNotes } from '../../contract/upgrade-notes.js';
import { PocketdError, fieldError } from '../../shared/errors.js';
import type { ReleaseSource } from '../../host/releases.js';
import { breakingCrossed, compareVersions } from '../../shared/pocketbase/breaking.js';
import { capabilitiesOf } from '../../shared/pocketbase/versions.js';

export type { UpgradeNotes };

/** From superusers (0.23+) back to admins: an older PocketBase serves but cannot read the newer one's data. */
export const crossesBack = (from: string, to: string) =>
  capabilitiesOf(from).accounts === 'superusers' && capabilitiesOf(to).accounts === 'admins';

export const downgradeRefusal = (from: string, to: string) =>
  `PocketBase ${to} cannot read the data PocketBase ${from} keeps (0.23 changed its schema); roll back with the data instead`;

/** The field a refused target is named by: the query parameter `to` of GET /api/apps/{name}/upgrade-notes. */
const TO = 'query.to';

/**
 * The release notes between an app's release and a target, from the release
 * source's list (its cache), with the breaking releases crossed named.
 */
export function createUpgradeNotes(deps: {
  versionOf: (app: string) => Promise<string>;
  releases: Pick<ReleaseSource, 'published'>;
}) {
  async function between(app: string, to: string): Promise<UpgradeNotes> {
    const from = await deps.versionOf(app);
    if (from === to) throw fieldError(TO, 'SAME_VERSION', `app ${app} already runs PocketBase ${to}`);
    const published = await deps.releases.published().catch((err: unknown) => {
      throw new PocketdError('RELEASE_SOURCE_UNAVAILABLE', (err as Error).message);
    });
    if (!published.some((r) => r.version === to))
      throw fieldError(TO, 'VERSION_NOT_FOUND', `PocketBase ${to} does not exist at the release source`);
    const up = compareVersions(from, to) < 0;
    const [low, high] = up ? [from, to] : [to, from];
    const releases = published
      .filter((r) => compareVersions(r.version, low) > 0 && compareVersions(r.version, high) <= 0)
      .filter((r) => !r.prerelease || r.version === to)
      .sort((a, b) => compareVersions(a.version, b.version));
    return {
      app,
      from,
      to,
      direction: up ? 'upgrade' : 'downgrade',
      breaking: breakingCrossed(from, to).map((b) => ({ ...b, changes: [...b.changes] })),
      releases,
      refused: crossesBack(from, to) ? { code: 'DOWNGRADE_UNSUPPORTED', message: downgradeRefusal(from, to) } : null,
    };
  }
  return { between };
}

export type UpgradeNotesService = ReturnType<typeof createUpgradeNotes>;
