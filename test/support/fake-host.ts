import http from 'node:http';
import path from 'node:path';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/shared/config.js';
import { openDatabase, migrateToLatest, type Database } from '../../src/db/database.js';
import type { HelperVerb, Privileged, PrivilegedOptions } from '../../src/host/privileged.js';
import type { HelperArgs } from '../../src/shared/protocol.js';
import type { ReleaseSource } from '../../src/host/releases.js';
import type { Systemd, UnitDetails } from '../../src/host/systemd/units.js';
import type { Journal } from '../../src/host/journal.js';
import { createAppHost } from '../../src/core/apps/host.js';
import { unitName } from '../../src/shared/naming.js';
import { appStore } from '../../src/core/apps/store.js';
import type { AppDeps } from '../../src/core/apps/deps.js';
import { createBundles } from '../../src/core/bundles.js';
import { createDeployments } from '../../src/core/deployments/engine.js';
import { createEventBus } from '../../src/core/events.js';
import { tempDir } from './tmp.js';

/**
 * The host as the app core sees it, in-process: a helper that records each
 * verb it is asked (and fails the ones a test says), units whose state the
 * helper's start and stop change, and for a started app a real loopback HTTP
 * server on its port answering /api/health. The store is a real SQLite file
 * and the unit and site are rendered from the real templates.
 */
export class FakeHelper implements Privileged {
  readonly calls: string[] = [];
  private readonly fail = new Map<string, string>();
  private readonly ports = new Map<string, number>();
  private readonly servers = new Map<string, http.Server>();
  readonly units = new Map<string, UnitDetails>();
  private pid = 1000;

  /** The next calls of `verb` (for `app`, when given) fail with `message`. */
  failOn(verb: HelperVerb, message = `${verb} failed`, app = ''): void {
    this.fail.set(`${verb}:${app}`, message);
  }
  clearFailures(): void {
    this.fail.clear();
  }
  verbs(app: string): string[] {
    return this.calls.filter((c) => c.endsWith(` ${app}`)).map((c) => c.split(' ')[0]!);
  }

  // The fake takes any verb's call shape; the real Privileged's typing is checked where core calls it.
  async run<V extends HelperVerb>(verb: V, argList: HelperArgs<V>, ...rest: [PrivilegedOptions<V>?]): Promise<string> {
    const args = argList as string[];
    const opts: { spec?: unknown } = rest[0] ?? {};
    const app = args[0] ?? '';
    this.calls.push(`${verb} ${app}`.trim());
    const why = this.fail.get(`${verb}:${app}`) ?? this.fail.get(`${verb}:`);
    if (why !== undefined) throw new Error(why);
    const spec = (opts.spec ?? {}) as { port?: number };
    switch (verb) {
      case 'install-unit':
        if (spec.port) this.ports.set(app, spec.port);
        this.setUnit(app, this.units.get(unitName(app))?.active_state ?? 'inactive');
        return '';
      case 'create-app': {
        // The real verb removes what it made when a part fails: here nothing was made before it answers.
        const unit = (opts.spec as { unit?: { port?: number } } | undefined)?.unit;
        if (unit?.port) this.ports.set(app, unit.port);
        await this.listen(app);
        this.setUnit(app, 'active');
        return '';
      }
      case 'start':
        await this.listen(app);
        this.setUnit(app, 'active');
        return '';
      case 'restart':
        await this.close(app);
        await this.listen(app);
        this.setUnit(app, 'active');
        return '';
      case 'stop':
        await this.close(app);
        this.setUnit(app, 'inactive');
        return '';
      case 'remove-unit':
        await this.close(app);
        this.units.delete(unitName(app));
        return '';
      case 'caddy-routes':
        return '{}';
      case 'archive-app':
        return `/archive/${app}`;
      case 'backup':
        return '123';
      default:
        return '';
    }
  }

  private setUnit(app: string, active: string): void {
    const on = active === 'active';
    this.units.set(unitName(app), {
      unit: unitName(app),
      load_state: 'loaded',
      active_state: active,
      sub_state: on ? 'running' : 'dead',
      main_pid: on ? ++this.pid : null,
      memory_bytes: null,
      cpu_ns: null,
      restarts: 0,
      active_since: null,
      control_group: null,
    });
  }

  private async listen(app: string): Promise<void> {
    const port = this.ports.get(app);
    if (port === undefined || this.servers.has(app)) return;
    const server = http.createServer((req, res) => {
      res.writeHead(req.url === '/api/health' ? 200 : 404, { 'content-type': 'application/json' });
      res.end('{"code":200}');
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.servers.set(app, server);
  }

  private async close(app: string): Promise<void> {
    const s = this.servers.get(app);
    this.servers.delete(app);
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  async closeAll(): Promise<void> {
    for (const app of [...this.servers.keys()]) await this.close(app);
  }
}

export interface InProcess {
  dir: string;
  config: Config;
  db: Database;
  helper: FakeHelper;
  deps: AppDeps;
  /** Versions the release source lists (the first is the latest); set `offline` to make it unreachable. */
  releases: { versions: string[]; offline: boolean; installed: string[] };
  close(): Promise<void>;
}

/** A real store and the app core wired as the daemon wires it, on a fake host. */
export async function inProcess(opts: { portRange?: string; stepPauseMs?: number; queueMax?: number } = {}) {
  const t = tempDir('pocketd-engine-');
  const config = loadConfig({
    POCKETD_DATA_DIR: t.dir,
    POCKETD_APPS_DIR: path.join(t.dir, 'apps'),
    POCKETD_UNIT_DIR: path.join(t.dir, 'units'),
    POCKETD_SITES_DIR: path.join(t.dir, 'sites'),
    POCKETD_PORT_RANGE: opts.portRange ?? '41000-41049',
    POCKETD_HEALTH_TIMEOUT_SECONDS: '5',
  });
  const db = openDatabase(config.db_file);
  await migrateToLatest(db);
  const log = pino({ level: 'silent' });
  const events = createEventBus();
  const helper = new FakeHelper();
  const releases = { versions: ['0.22.1', '0.22.0'], offline: false, installed: [] as string[] };
  const source = {
    list: async () => {
      if (releases.offline) throw new Error('the release source is unreachable');
      return releases.versions.map((version, i) => ({ version, prerelease: false, latest: i === 0 }));
    },
    exists: async (v: string) => releases.installed.includes(v) || releases.versions.includes(v),
    ensure: async (v: string) => `/releases/${v}/pocketbase`,
    binPath: (v: string) => `/releases/${v}/pocketbase`,
  } as unknown as ReleaseSource;
  const systemd = {
    show: async (units: string[]) =>
      new Map(units.flatMap((u) => (helper.units.has(u) ? [[u, helper.units.get(u)!] as const] : []))),
    listUnits: async () =>
      [...helper.units.values()].map((u) => ({
        unit: u.unit,
        load: u.load_state,
        active: u.active_state,
        sub: u.sub_state,
      })),
    source: () => 'systemctl' as const,
    exitOf: async () => null,
  } as unknown as Systemd;
  const journal = { tail: async () => [], read: async () => [] } as unknown as Journal;
  const deployments = createDeployments(db, events, log, { stepPauseMs: opts.stepPauseMs, queueMax: opts.queueMax });
  const deps: AppDeps = {
    config,
    log,
    store: appStore(db),
    host: createAppHost({
      config,
      privileged: helper,
      systemd,
      journal,
      events,
    }),
    privileged: helper,
    systemd,
    releases: source,
    bundles: createBundles({ config, db, events }),
    deployments,
    events,
  };
  const env: InProcess = {
    dir: t.dir,
    config,
    db,
    helper,
    deps,
    releases,
    async close() {
      await deployments.idle();
      await helper.closeAll();
      await db.destroy();
      t.cleanup();
    },
  };
  return env;
}
