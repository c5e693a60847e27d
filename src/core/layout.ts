import type { Database } from '../db/database.js';
import { readIfExists } from '../host/files.js';
import type { ReleaseSource } from '../host/releases.js';
import { UNIT_LAYOUT } from '../host/templates.js';
import type { Logger } from '../log.js';
import type { AppHost } from './app-host.js';
import type { AppSettings } from './app-model.js';

/**
 * Units an older pocketd installed (an older layout: releases under the
 * daemon's data directory, no layout line) are installed again from the store
 * when the daemon starts, once their release is in root's releases directory.
 * A running app keeps running; its next start uses the new unit. Units of the
 * current layout are never touched here: hand edits are drift, reported, and
 * put back only by a repair.
 */
export async function upgradeUnitLayout(deps: {
  db: Database; host: AppHost; releases: ReleaseSource; log: Logger;
  loadSettings(name: string): Promise<{ settings: AppSettings }>;
}): Promise<string[]> {
  const rows = await deps.db.selectFrom('apps').select('name').where('status', '=', 'ready').orderBy('name').execute();
  const upgraded: string[] = [];
  for (const { name } of rows) {
    const text = await readIfExists(deps.host.unitFile(name));
    const layout = Number(/^# pocketd-layout: (\d+)$/m.exec(text ?? '')?.[1] ?? 1);
    if (text === null || layout >= UNIT_LAYOUT) continue;
    try {
      const { settings } = await deps.loadSettings(name);
      await deps.releases.ensure(settings.version);
      await deps.host.installUnit(settings);
      await deps.host.installEnv(name, settings.env);
      await deps.host.installSite(settings);
      upgraded.push(name);
    } catch (err) {
      deps.log.error({ app: name, err }, 'could not move the app to the current unit layout; a repair will retry');
    }
  }
  if (upgraded.length) deps.log.warn({ apps: upgraded, layout: UNIT_LAYOUT }, 'units of an older pocketd were installed again');
  return upgraded;
}
