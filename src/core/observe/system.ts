import { access, constants, statfs } from 'node:fs/promises';
import type { Config } from '../../shared/config.js';
import type { Journal } from '../../host/journal.js';
import type { Privileged } from '../../host/privileged.js';
import type { Systemd } from '../../host/systemd/units.js';
import { VERSION } from '../../shared/version.js';

export interface Check {
  name: string;
  ok: boolean;
  message: string;
}

/** Whether this host can run apps: systemd, Caddy, directories, journal, the privileged path, disk. */
export function createSystemChecks(deps: {
  config: Config;
  systemd: Systemd;
  journal: Journal;
  privileged: Privileged;
  startedAt: number;
  drifted?: () => Promise<string[]>;
}) {
  const { config } = deps;
  const check = async (name: string, fn: () => Promise<string>): Promise<Check> => {
    try {
      return { name, ok: true, message: await fn() };
    } catch (err) {
      return { name, ok: false, message: (err as Error).message.slice(0, 1000) };
    }
  };

  async function run(): Promise<{ ok: boolean; checks: Check[] }> {
    const checks = await Promise.all([
      check('systemd', async () => {
        if (!(await deps.systemd.isReachable())) throw new Error('systemctl cannot reach a running systemd');
        return 'reachable';
      }),
      check('systemd_events', async () => {
        if (config.systemd_bus === 'off') return 'reading unit state with systemctl (systemd_bus is off)';
        if (deps.systemd.source() !== 'dbus')
          throw new Error(
            "systemd's D-Bus API is not reachable: unit state is read with systemctl (slower, and changes are seen at the next read, not at once)",
          );
        return 'told by systemd over D-Bus: unit state is kept in memory';
      }),
      check('caddy', async () => {
        const d = (await deps.systemd.show(['caddy.service'])).get('caddy.service');
        if (d?.active_state !== 'active') throw new Error(`caddy.service is ${d?.active_state ?? 'unknown'}`);
        return 'caddy.service is active';
      }),
      check('privileged_helper', async () => {
        await deps.privileged.run('validate-caddy', [], { timeoutMs: 30_000 });
        return 'the helper runs through sudo and caddy accepts its configuration';
      }),
      check('directories', async () => {
        await access(config.data_dir, constants.W_OK);
        return `${config.data_dir} is writable`;
      }),
      check('journal', async () => {
        if (!(await deps.journal.readable()))
          throw new Error('journalctl cannot read the journal (is the daemon in systemd-journal?)');
        return 'readable';
      }),
      check('drift', async () => {
        const d = (await deps.drifted?.()) ?? [];
        if (d.length)
          throw new Error(`edited by hand (POST /api/apps/<name>/repair puts pocketd's version back): ${d.join('; ')}`);
        return 'every unit and site is as pocketd rendered it';
      }),
      check('disk', async () => {
        const s = await statfs(config.data_dir);
        const free = s.bavail * s.bsize;
        const share = s.bavail / s.blocks;
        const text = `${(free / 1024 ** 3).toFixed(1)} GiB free (${(share * 100).toFixed(0)}%) on ${config.data_dir}`;
        if (free < 512 * 1024 ** 2 || share < 0.02) throw new Error(`low disk space: ${text}`);
        return text;
      }),
    ]);
    return { ok: checks.every((c) => c.ok), checks };
  }

  function info() {
    return {
      version: VERSION,
      node: process.version,
      uptime_seconds: Math.floor((Date.now() - deps.startedAt) / 1000),
      memory: (({ rss, heapUsed, heapTotal, external }) => ({
        rss_bytes: rss,
        heap_used_bytes: heapUsed,
        heap_total_bytes: heapTotal,
        external_bytes: external,
      }))(process.memoryUsage()),
      paths: {
        data_dir: config.data_dir,
        apps_dir: config.apps_dir,
        archive_dir: config.archive_dir,
        unit_dir: config.unit_dir,
        sites_dir: config.sites_dir,
        env_dir: config.env_dir,
        releases_dir: config.releases_dir,
      },
      port_range: config.port_range,
      releases_url: config.releases_url,
      apps_user: config.apps_user,
    };
  }

  return { run, info };
}

export type SystemChecks = ReturnType<typeof createSystemChecks>;
/** pocketd itself, as `GET /api/system/info` answers it. */
export type SystemInfo = ReturnType<SystemChecks['info']>;
