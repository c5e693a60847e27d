import { randomBytes } from 'node:crypto';
import type { Database } from '../../db/database.js';
import type { AppRow, AppStatus } from '../../db/schema.js';
import { PocketdError, conflict, notFound } from '../../shared/errors.js';
import { nowIso } from '../clock.js';
import { settingsOf, type AppSettings } from './model.js';
import { healthPathOf } from '../health-path.js';

/** An app as the store holds it: its row and its decoded settings. */
export interface StoredApp {
  row: AppRow;
  settings: AppSettings;
}

/** What a configure may change, beside the settings the unit and site are rendered from. */
export interface SavedSettings {
  settings: AppSettings;
  domainsChanged: boolean;
  backup_schedule?: string | null;
  backup_keep?: number;
  health_path?: string | null;
}

/**
 * The one place that reads and writes the `apps` and `app_domains` tables.
 * Every other module asks it: what an app is, which names, ports and domains
 * are taken, and what an operation changed.
 */
export function appStore(db: Database) {
  const find = (name: string) => db.selectFrom('apps').selectAll().where('name', '=', name).executeTakeFirst();

  /** The app's name and status, or a 404: the one existence check of the modules that hang off an app. */
  async function require(name: string): Promise<{ name: string; status: AppStatus }> {
    const row = await db.selectFrom('apps').select(['name', 'status']).where('name', '=', name).executeTakeFirst();
    if (!row) throw notFound('app', name);
    return row;
  }

  /** The app with its settings decoded, or a 404. */
  async function load(name: string): Promise<StoredApp> {
    const row = await find(name);
    if (!row) throw notFound('app', name);
    const domains = await db
      .selectFrom('app_domains')
      .select('domain')
      .where('app', '=', name)
      .orderBy('position')
      .execute();
    return {
      row,
      settings: settingsOf(
        row,
        domains.map((d) => d.domain),
      ),
    };
  }

  /**
   * The one rule for asking an operation of an app: it exists and is not on its
   * way out; a `working` operation (a change of release or data, a backup) also
   * needs it ready, or becoming ready (it then waits for its create in the queue).
   */
  async function admit(name: string, need: 'any' | 'working' = 'any'): Promise<StoredApp> {
    const app = await load(name);
    const status = app.row.status;
    if (status === 'deleting') throw new PocketdError('APP_DELETING', `app ${name} is being deleted`);
    if (need === 'working' && status !== 'ready' && status !== 'creating')
      throw conflict('APP_NOT_READY', `app ${name} is ${status}`);
    return app;
  }

  /** When an operation's turn comes: the app as it is then, which must be ready. */
  async function readyAtTurn(name: string): Promise<StoredApp> {
    const app = await load(name);
    if (app.row.status !== 'ready') throw new Error(`app ${name} is ${app.row.status}`);
    return app;
  }

  /** Every app, by name, with its domains in order. */
  async function all(): Promise<Array<{ row: AppRow; domains: string[] }>> {
    const rows = await db.selectFrom('apps').selectAll().orderBy('name').execute();
    const domainsOf = new Map<string, string[]>();
    for (const d of await db.selectFrom('app_domains').selectAll().orderBy('position').execute())
      domainsOf.set(d.app, [...(domainsOf.get(d.app) ?? []), d.domain]);
    return rows.map((row) => ({ row, domains: domainsOf.get(row.name) ?? [] }));
  }

  /** Ready apps (or one of them) with their own domains, in one query. */
  async function readyDomains(only?: string): Promise<Array<{ name: string; domains: string[] }>> {
    let q = db
      .selectFrom('apps')
      .leftJoin('app_domains', 'app_domains.app', 'apps.name')
      .select(['apps.name', 'app_domains.domain'])
      .where('apps.status', '=', 'ready')
      .orderBy('apps.name')
      .orderBy('app_domains.position');
    if (only !== undefined) q = q.where('apps.name', '=', only);
    const own = new Map<string, string[]>();
    for (const r of await q.execute()) {
      const list = own.get(r.name) ?? [];
      if (r.domain !== null) list.push(r.domain);
      own.set(r.name, list);
    }
    return [...own].map(([name, domains]) => ({ name, domains }));
  }

  /** Ready apps with what health checks and schedules need. */
  const ready = () =>
    db
      .selectFrom('apps')
      .select(['name', 'port', 'desired_state', 'backup_schedule', 'sleep_after', 'wake_port', 'health_path'])
      .where('status', '=', 'ready')
      .orderBy('name')
      .execute();

  /** Ports apps hold: their own, and the one behind the proxy of an app that may sleep. */
  const usedPorts = async () =>
    new Set(
      (await db.selectFrom('apps').select(['port', 'wake_port']).execute()).flatMap((r) =>
        r.wake_port === null ? [r.port] : [r.port, r.wake_port],
      ),
    );
  const portOwner = async (port: number) =>
    (
      await db
        .selectFrom('apps')
        .select('name')
        .where((eb) => eb.or([eb('port', '=', port), eb('wake_port', '=', port)]))
        .executeTakeFirst()
    )?.name ?? null;

  /** Which of `domains` belong to an app other than `except`. */
  async function domainOwners(domains: string[], except?: string): Promise<Array<{ domain: string; app: string }>> {
    if (domains.length === 0) return [];
    let q = db.selectFrom('app_domains').select(['domain', 'app']).where('domain', 'in', domains);
    if (except !== undefined) q = q.where('app', '!=', except);
    return q.execute();
  }

  /** Which of `names` are apps. */
  async function existing(names: string[]): Promise<string[]> {
    if (names.length === 0) return [];
    return (await db.selectFrom('apps').select('name').where('name', 'in', names).execute()).map((r) => r.name);
  }

  /** Records a new app as `creating`, with its domains, in one transaction. */
  async function insertCreating(s: AppSettings, healthPath: string | null = null): Promise<void> {
    const now = nowIso();
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('apps')
        .values({
          name: s.name,
          // Its identity: what tokens and history are bound to (a later app of the same name gets another).
          app_id: randomBytes(8).toString('hex'),
          port: s.port,
          version: s.version,
          memory_max: s.memory_max,
          cpu_quota: s.cpu_quota,
          env: JSON.stringify(s.env),
          status: 'creating',
          desired_state: 'running',
          health_path: healthPath,
          created_at: now,
          updated_at: now,
        })
        .execute();
      if (s.domains.length)
        await trx
          .insertInto('app_domains')
          .values(s.domains.map((domain, position) => ({ domain, app: s.name, position })))
          .execute();
    });
  }

  const update = async (name: string, set: Partial<Omit<AppRow, 'name' | 'created_at'>>) => {
    await db
      .updateTable('apps')
      .set({ ...set, updated_at: nowIso() })
      .where('name', '=', name)
      .execute();
  };

  /** Saves what a configure applied: settings, and the domains when they were given. */
  async function saveSettings(name: string, s: SavedSettings): Promise<void> {
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('apps')
        .set({
          env: JSON.stringify(s.settings.env),
          memory_max: s.settings.memory_max,
          cpu_quota: s.settings.cpu_quota,
          sleep_after: s.settings.sleep_after,
          wake_port: s.settings.wake_port,
          updated_at: nowIso(),
          ...(s.backup_schedule !== undefined ? { backup_schedule: s.backup_schedule } : {}),
          ...(s.backup_keep !== undefined ? { backup_keep: s.backup_keep } : {}),
          ...(s.health_path !== undefined ? { health_path: s.health_path } : {}),
        })
        .where('name', '=', name)
        .execute();
      if (s.domainsChanged) {
        await trx.deleteFrom('app_domains').where('app', '=', name).execute();
        if (s.settings.domains.length)
          await trx
            .insertInto('app_domains')
            .values(s.settings.domains.map((domain, position) => ({ domain, app: name, position })))
            .execute();
      }
    });
  }

  return {
    find,
    require,
    load,
    admit,
    readyAtTurn,
    all,
    ready,
    readyDomains,
    usedPorts,
    portOwner,
    domainOwners,
    existing,
    insertCreating,
    /** What the gate and the checks ask the app for (its own path, or /api/health). */
    healthPath: async (name: string): Promise<string> => healthPathOf((await find(name))?.health_path),
    saveSettings,
    setStatus: (name: string, status: AppStatus) => update(name, { status }),
    setDesired: (name: string, desired_state: 'running' | 'stopped') => update(name, { desired_state }),
    setEnv: (name: string, env: Record<string, string>) => update(name, { env: JSON.stringify(env) }),
    /** What a change left the app running (and that it should run). */
    setRelease: (name: string, to: { version: string; bundle: number | null }) =>
      update(name, { version: to.version, bundle: to.bundle, desired_state: 'running' }),
    /** Backup retention of the app (7 when it is gone). */
    backupKeep: async (name: string) =>
      (await db.selectFrom('apps').select('backup_keep').where('name', '=', name).executeTakeFirst())?.backup_keep ?? 7,
    /** Apps whose create or delete never finished (the daemon stopped): marked failed so they can be deleted. */
    markStale: async () => {
      await db
        .updateTable('apps')
        .set({ status: 'failed', updated_at: nowIso() })
        .where('status', 'in', ['creating', 'deleting'])
        .execute();
    },
    forget: async (name: string) => {
      await db.deleteFrom('apps').where('name', '=', name).execute();
    },
  };
}

export type AppStore = ReturnType<typeof appStore>;
