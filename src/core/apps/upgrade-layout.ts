import { readIfExists } from '../../shared/files.js';
import { UNIT_LAYOUT } from '../../shared/templates.js';
import type { AppDeps } from './deps.js';

/**
 * Apps an older pocketd installed are moved to the current layout when the
 * daemon starts: layout 1 kept releases under the daemon's data directory,
 * layouts 1 and 2 ran every app as one shared user. Each such app is stopped,
 * its directory moved to its own user by the helper (migrate-app), its release
 * put in root's releases directory, its unit, env file and site installed
 * again from the store, and it is started again if it should run. Units of the
 * current layout are never touched here: hand edits are drift, reported, and
 * put back only by a repair.
 */
export async function upgradeUnitLayout(
  deps: Pick<AppDeps, 'store' | 'host' | 'releases' | 'privileged' | 'log'>,
): Promise<string[]> {
  const rows = await deps.store.ready();
  const upgraded: string[] = [];
  for (const { name } of rows) {
    const text = await readIfExists(deps.host.unitFile(name));
    const layout = Number(/^# pocketd-layout: (\d+)$/m.exec(text ?? '')?.[1] ?? 1);
    if (text === null || layout >= UNIT_LAYOUT) continue;
    try {
      const { row, settings } = await deps.store.load(name);
      await deps.releases.ensure(settings.version);
      await deps.privileged.run('stop', [name]);
      const moved = (await deps.privileged.run('migrate-app', [name], { timeoutMs: 60 * 60_000 })).trim();
      await deps.host.installUnit(settings);
      await deps.host.installEnv(name, settings.env);
      await deps.host.installSite(settings);
      if (row.desired_state === 'running') {
        await deps.privileged.run('start', [name]);
        await deps.host.waitHealthy(name, settings.port);
      }
      deps.log.warn({ app: name, from: layout, to: UNIT_LAYOUT, data: moved }, 'app moved to the current layout');
      upgraded.push(name);
    } catch (err) {
      deps.log.error(
        { app: name, err },
        'could not move the app to the current layout; the next start of pocketd tries again',
      );
    }
  }
  return upgraded;
}
