import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { AppStatus } from '../db/schema.js';
import { invalid, notFound, type FieldIssue } from '../errors.js';
import type { Logger } from '../log.js';
import type { Journal } from '../host/journal.js';
import { readIfExists, sha256 } from '../host/files.js';
import { portInUse } from '../host/ports.js';
import type { Privileged } from '../host/privileged.js';
import type { ReleaseSource } from '../host/releases.js';
import type { Systemd, UnitDetails } from '../host/systemd.js';
import type { Templates } from '../host/templates.js';
import { nowIso } from './clock.js';
import type { Deployment, Deployments, StepDef } from './deployments.js';
import type { Bundles } from './bundles.js';
import { createAppHost, unitName } from './app-host.js';
import { requireApp } from './app-lookup.js';
import type { EventBus } from './events.js';
import { maskEnv, settingsOf, type AppSettings, type CreateAppInput } from './app-model.js';
import { toBytes } from './app-rules.js';

export type AppState = 'running' | 'starting' | 'stopping' | 'stopped' | 'failed' | 'creating' | 'deleting' | 'unknown';

/** What systemd says of an app's unit now. */
export type Runtime = Omit<UnitDetails, 'unit' | 'load_state'>;

export interface AppView {
  name: string;
  port: number;
  version: string;
  domains: string[];
  memory_max: string | null;
  cpu_quota: number | null;
  bundle: number | null;
  backup_schedule: string | null;
  backup_keep: number;
  status: AppStatus;
  desired_state: 'running' | 'stopped';
  state: AppState;
  runtime: Runtime | null;
  created_at: string;
  updated_at: string;
}

export interface FileMatch {
  expected: string | null;
  installed: string | null;
  match: boolean;
}
export interface AppDetail extends AppView {
  env: Record<string, string>;
  site_present: boolean;
  config_match: {
    match: boolean;
    unit: FileMatch;
    site: FileMatch;
    routes: { match: boolean; expected: string[]; live: string[] };
  };
}

export interface ValidationReport {
  valid: boolean;
  errors: FieldIssue[];
  warnings: FieldIssue[];
  checks: {
    name_available: boolean;
    port_available: boolean;
    domains_valid: boolean;
    domains_available: boolean;
    version_exists: boolean;
  };
  resolved: { port: number | null; pocketbase_version: string | null };
}

export interface AppsDeps {
  config: Config;
  db: Database;
  log: Logger;
  events: EventBus;
  deployments: Deployments;
  releases: ReleaseSource;
  templates: Templates;
  privileged: Privileged;
  systemd: Systemd;
  journal: Journal;
  bundles: Bundles;
}

function stateOf(status: AppStatus, rt: Runtime | null): AppState {
  if (status === 'creating' || status === 'deleting') return status;
  if (!rt) return 'unknown';
  if (rt.active_state === 'active') return 'running';
  if (rt.active_state === 'activating') return rt.sub_state === 'auto-restart' ? 'failed' : 'starting';
  if (rt.active_state === 'deactivating') return 'stopping';
  if (rt.active_state === 'failed') return 'failed';
  return 'stopped';
}

const runtimeOf = (d: UnitDetails | undefined): Runtime | null => {
  if (!d || d.load_state === 'not-found') return null;
  const { unit: _unit, load_state: _load, ...runtime } = d;
  return runtime;
};

/** Serialises a section of async code. */
function mutex() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** Apps: their settings in the store and their unit, site, env file and directory on the host. */
export function createApps(deps: AppsDeps) {
  const { config, db, privileged } = deps;
  const host = createAppHost(deps);
  const {
    appDir,
    unitFile,
    siteFile,
    renderUnit,
    renderSite,
    installUnit,
    installSite,
    installEnv,
    unitDetails,
    waitHealthy,
  } = host;
  const serialCreate = mutex();

  async function loadSettings(
    name: string,
  ): Promise<{ row: NonNullable<Awaited<ReturnType<typeof findRow>>>; settings: AppSettings }> {
    const row = await findRow(name);
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
  const findRow = (name: string) => db.selectFrom('apps').selectAll().where('name', '=', name).executeTakeFirst();

  // --- validation ---------------------------------------------------------------

  async function allocatePort(): Promise<number | null> {
    const used = new Set((await db.selectFrom('apps').select('port').execute()).map((r) => r.port));
    for (let p = config.port_range.from; p <= config.port_range.to; p++) {
      if (!used.has(p) && !(await portInUse(p))) return p;
    }
    return null;
  }

  /** A dry run of a create: every check, every error and warning, nothing written. */
  async function validateCreate(input: CreateAppInput): Promise<ValidationReport> {
    const errors: FieldIssue[] = [];
    const warnings: FieldIssue[] = [];
    const checks = {
      name_available: true,
      port_available: true,
      domains_valid: true,
      domains_available: true,
      version_exists: true,
    };

    if ((await findRow(input.name)) || (await readIfExists(unitFile(input.name))) !== null) {
      checks.name_available = false;
      errors.push({ field: 'name', code: 'NAME_TAKEN', message: `an app or unit named ${input.name} exists` });
    }

    let port: number | null = input.port ?? null;
    if (input.port !== undefined) {
      const { from, to } = config.port_range;
      if (input.port < from || input.port > to) {
        checks.port_available = false;
        errors.push({ field: 'port', code: 'PORT_OUT_OF_RANGE', message: `port must be within ${from}-${to}` });
      } else if (await db.selectFrom('apps').select('name').where('port', '=', input.port).executeTakeFirst()) {
        checks.port_available = false;
        errors.push({ field: 'port', code: 'PORT_IN_USE', message: `port ${input.port} belongs to another app` });
      } else if (await portInUse(input.port)) {
        checks.port_available = false;
        errors.push({
          field: 'port',
          code: 'PORT_IN_USE',
          message: `something on this host already listens on port ${input.port}`,
        });
      }
    } else {
      port = await allocatePort();
      if (port === null) {
        checks.port_available = false;
        errors.push({
          field: 'port',
          code: 'NO_FREE_PORT',
          message: `no free port left in ${config.port_range.from}-${config.port_range.to}`,
        });
      }
    }

    // With a base domain, <name>.<base_domain> is the app's own: no other app may claim it, either way round.
    const base = config.base_domain;
    if (
      base &&
      (await db
        .selectFrom('app_domains')
        .select('app')
        .where('domain', '=', `${input.name}.${base}`)
        .executeTakeFirst())
    ) {
      errors.push({ field: 'name', code: 'DOMAIN_TAKEN', message: `${input.name}.${base} is a domain of another app` });
    }
    if (input.domains.length > 0) {
      const taken = await db
        .selectFrom('app_domains')
        .select(['domain', 'app'])
        .where('domain', 'in', input.domains)
        .execute();
      for (const t of taken) {
        checks.domains_available = false;
        errors.push({
          field: `domains.${input.domains.indexOf(t.domain)}`,
          code: 'DOMAIN_TAKEN',
          message: `${t.domain} is used by app ${t.app}`,
        });
      }
      if (base) {
        const auto = input.domains
          .map((d, i) => ({ i, app: d.endsWith(`.${base}`) ? d.slice(0, -base.length - 1) : '' }))
          .filter((x) => x.app && x.app !== input.name);
        const owners = auto.length
          ? await db
              .selectFrom('apps')
              .select('name')
              .where(
                'name',
                'in',
                auto.map((x) => x.app),
              )
              .execute()
          : [];
        for (const x of auto.filter((a) => owners.some((o) => o.name === a.app))) {
          checks.domains_available = false;
          errors.push({
            field: `domains.${x.i}`,
            code: 'DOMAIN_TAKEN',
            message: `${input.domains[x.i]} is app ${x.app}'s own under the base domain`,
          });
        }
      }
    } else if (base) {
      warnings.push({ field: 'domains', code: 'BASE_DOMAIN_ONLY', message: `served at ${input.name}.${base} only` });
    } else {
      warnings.push({
        field: 'domains',
        code: 'NO_DOMAINS',
        message: 'without a domain the app has no Caddy site and is reachable on loopback only',
      });
    }

    let version: string | null = input.pocketbase_version ?? null;
    try {
      const releases = await deps.releases.list();
      const latest = releases.find((r) => r.latest)?.version ?? null;
      if (version === null) {
        version = latest;
        if (version === null) {
          checks.version_exists = false;
          errors.push({
            field: 'pocketbase_version',
            code: 'VERSION_NOT_FOUND',
            message: 'the release source lists no stable release',
          });
        }
      } else {
        const r = releases.find((x) => x.version === version);
        if (!r) {
          checks.version_exists = false;
          errors.push({
            field: 'pocketbase_version',
            code: 'VERSION_NOT_FOUND',
            message: `PocketBase ${version} does not exist at the release source`,
          });
        } else if (r.prerelease) {
          warnings.push({ field: 'pocketbase_version', code: 'PRERELEASE', message: `${version} is a prerelease` });
        } else if (latest && version !== latest) {
          warnings.push({
            field: 'pocketbase_version',
            code: 'NOT_LATEST',
            message: `${version} is not the latest stable release (${latest})`,
          });
        }
      }
    } catch (err) {
      // Offline hosts can still create apps on a release they already have.
      if (version !== null && (await deps.releases.exists(version).catch(() => false))) {
        warnings.push({
          field: 'pocketbase_version',
          code: 'SOURCE_UNAVAILABLE',
          message: `the release source is unreachable; using the installed ${version}`,
        });
      } else {
        checks.version_exists = false;
        errors.push({
          field: 'pocketbase_version',
          code: 'RELEASE_SOURCE_UNAVAILABLE',
          message: (err as Error).message,
        });
      }
    }
    if (input.memory_max && toBytes(input.memory_max) < 64 * 1024 * 1024) {
      warnings.push({
        field: 'memory_max',
        code: 'LOW_MEMORY',
        message: 'PocketBase may not start with less than 64M',
      });
    }
    return { valid: errors.length === 0, errors, warnings, checks, resolved: { port, pocketbase_version: version } };
  }

  // --- create -----------------------------------------------------------------

  /** Creates an app as a deployment; answers with its id at once. */
  async function create(
    input: CreateAppInput,
    actor: string,
  ): Promise<{ deployment_id: number; name: string; port: number; pocketbase_version: string }> {
    return serialCreate(async () => {
      const report = await validateCreate(input);
      if (!report.valid) throw invalid(report.errors);
      const settings: AppSettings = {
        name: input.name,
        port: report.resolved.port!,
        version: report.resolved.pocketbase_version!,
        domains: input.domains,
        env: input.env,
        memory_max: input.memory_max ?? null,
        cpu_quota: input.cpu_quota ?? null,
      };
      const now = nowIso();
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('apps')
          .values({
            name: settings.name,
            port: settings.port,
            version: settings.version,
            memory_max: settings.memory_max,
            cpu_quota: settings.cpu_quota,
            env: JSON.stringify(settings.env),
            status: 'creating',
            desired_state: 'running',
            created_at: now,
            updated_at: now,
          })
          .execute();
        if (settings.domains.length) {
          await trx
            .insertInto('app_domains')
            .values(settings.domains.map((domain, position) => ({ domain, app: settings.name, position })))
            .execute();
        }
      });
      const forget = async () => {
        await db.deleteFrom('apps').where('name', '=', settings.name).execute();
      };
      const steps: StepDef[] = [
        { name: 'validate', run: async () => `port ${settings.port}, PocketBase ${settings.version}`, undo: forget },
        {
          name: 'fetch_release',
          run: async () => {
            await deps.releases.ensure(settings.version);
            return `PocketBase ${settings.version} ready`;
          },
        },
        {
          name: 'create_dirs',
          run: async () => {
            await privileged.run('prepare-app', [settings.name]);
            return appDir(settings.name);
          },
          undo: async () => {
            await privileged.run('purge-app', [settings.name]);
          },
        },
        {
          name: 'install_env',
          run: async () => {
            await installEnv(settings.name, settings.env);
            return `${Object.keys(settings.env).length} variables`;
          },
          undo: async () => {
            await privileged.run('remove-env', [settings.name]);
          },
        },
        {
          name: 'install_unit',
          run: async () => {
            await installUnit(settings);
            return unitName(settings.name);
          },
          undo: async () => {
            await privileged.run('remove-unit', [settings.name]);
          },
        },
        {
          name: 'install_site',
          skip: () => host.servedDomains(settings).length === 0,
          run: async () => {
            await installSite(settings);
            return `validated by caddy and reloaded: ${host.servedDomains(settings).join(', ')}`;
          },
          undo: async () => {
            await privileged.run('remove-site', [settings.name]);
          },
        },
        // install-unit enabled it.
        {
          name: 'start',
          run: async () => {
            await privileged.run('start', [settings.name]);
          },
          undo: async () => {
            await privileged.run('stop', [settings.name]);
          },
        },
        { name: 'wait_health', run: () => waitHealthy(settings.name, settings.port) },
        {
          name: 'create_superuser',
          skip: () => !input.superuser,
          run: async () => {
            await privileged.run('superuser', [settings.name], { spec: input.superuser });
            return `superuser ${input.superuser!.email}`;
          },
        },
        {
          name: 'finish',
          run: async () => {
            await db
              .updateTable('apps')
              .set({ status: 'ready', updated_at: nowIso() })
              .where('name', '=', settings.name)
              .execute();
            deps.events.publish('app.created', settings.name, { port: settings.port });
          },
        },
      ];
      const id = await deps.deployments.start({
        app: settings.name,
        kind: 'create',
        actor,
        steps,
        params: { port: settings.port, pocketbase_version: settings.version, domains: settings.domains },
      });
      return { deployment_id: id, name: settings.name, port: settings.port, pocketbase_version: settings.version };
    });
  }

  // --- read -------------------------------------------------------------------

  async function list(filter: {
    status?: AppState;
    domain?: string;
    limit: number;
    offset: number;
  }): Promise<{ apps: AppView[]; total: number }> {
    let rows = await db.selectFrom('apps').selectAll().orderBy('name').execute();
    const domainRows = await db.selectFrom('app_domains').selectAll().orderBy('position').execute();
    const domainsOf = new Map<string, string[]>();
    for (const d of domainRows) domainsOf.set(d.app, [...(domainsOf.get(d.app) ?? []), d.domain]);
    if (filter.domain) rows = rows.filter((r) => domainsOf.get(r.name)?.includes(filter.domain!));
    // Two processes answer for every app: list-units for all, show for those loaded.
    const units = await deps.systemd.listUnits('pb-*.service');
    const loaded = units.filter((u) => u.load !== 'not-found').map((u) => u.unit);
    const wanted = new Set(rows.map((r) => unitName(r.name)));
    const details = await deps.systemd.show(loaded.filter((u) => wanted.has(u)));
    let views = rows.map((r) => view(r, domainsOf.get(r.name) ?? [], runtimeOf(details.get(unitName(r.name)))));
    if (filter.status) views = views.filter((v) => v.state === filter.status);
    return { apps: views.slice(filter.offset, filter.offset + filter.limit), total: views.length };
  }

  function view(
    row: NonNullable<Awaited<ReturnType<typeof findRow>>>,
    domains: string[],
    runtime: Runtime | null,
  ): AppView {
    return {
      name: row.name,
      port: row.port,
      version: row.version,
      domains,
      memory_max: row.memory_max,
      cpu_quota: row.cpu_quota,
      bundle: row.bundle,
      backup_schedule: row.backup_schedule,
      backup_keep: row.backup_keep,
      status: row.status,
      desired_state: row.desired_state,
      state: stateOf(row.status, runtime),
      runtime,
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }

  /** The installed unit and site against pocketd's rendering, and Caddy's live routes against the app's domains. */
  async function configMatch(s: AppSettings) {
    const [unitText, siteText, routes] = await Promise.all([
      readIfExists(unitFile(s.name)),
      readIfExists(siteFile(s.name)),
      host.routesMatch(s),
    ]);
    const hash = (t: string | null) => (t === null ? null : sha256(t));
    const fileMatch = (expected: string | null, installed: string | null) => ({
      expected: hash(expected),
      installed: hash(installed),
      match: expected === installed,
    });
    const unit = fileMatch(renderUnit(s), unitText);
    const site = fileMatch(renderSite(s), siteText);
    return { match: unit.match && site.match && routes.match, unit, site, routes, site_present: siteText !== null };
  }

  async function get(name: string, opts: { maskAll?: boolean } = {}): Promise<AppDetail> {
    const { row, settings } = await loadSettings(name);
    const [details, match] = await Promise.all([unitDetails(name), configMatch(settings)]);
    const { site_present, ...config_match } = match;
    return {
      ...view(row, settings.domains, runtimeOf(details)),
      env: maskEnv(settings.env, opts.maskAll),
      site_present,
      config_match,
    };
  }

  async function getEnv(name: string): Promise<{ env: Record<string, string> }> {
    const { settings } = await loadSettings(name);
    return { env: maskEnv(settings.env) };
  }

  // --- delete -----------------------------------------------------------------

  /**
   * The steps that take an app off the host and out of the store: a delete runs
   * them as a deployment, recovery after a crash runs them straight.
   */
  function teardown(name: string, purge: boolean, event: Record<string, unknown> = {}) {
    let archivedTo = '';
    const steps: StepDef[] = [
      {
        name: 'remove_unit',
        run: async () => {
          await privileged.run('remove-unit', [name]);
          return 'stopped, disabled and removed';
        },
      },
      {
        name: 'remove_site',
        run: async () => {
          await privileged.run('remove-site', [name]);
          return 'removed; caddy reloaded';
        },
      },
      {
        name: 'remove_env',
        run: async () => {
          await privileged.run('remove-env', [name]);
        },
      },
      purge
        ? {
            name: 'purge_data',
            run: async () => {
              await privileged.run('purge-app', [name]);
              return `${appDir(name)} removed`;
            },
          }
        : {
            name: 'archive_data',
            run: async () => {
              archivedTo = (await privileged.run('archive-app', [name])).trim();
              return archivedTo ? `archived to ${archivedTo}` : 'no data directory';
            },
          },
      {
        name: 'forget',
        run: async () => {
          await db.deleteFrom('apps').where('name', '=', name).execute();
          await deps.bundles.removeAll(name);
          deps.events.publish('app.deleted', name, { purged: purge, archived_to: archivedTo || null, ...event });
        },
      },
    ];
    return { steps, archivedTo: () => archivedTo };
  }

  /**
   * A create, configure or delete the daemon was killed in the middle of: a
   * create is rolled back (its app removed), a configure is rolled back to the
   * settings in the store, a delete is finished.
   */
  async function recover(d: Deployment): Promise<{ status: 'success' | 'rolled_back' | 'failed'; error: string }> {
    const name = d.app;
    if (d.kind === 'create' || d.kind === 'delete') {
      // A create is undone whole (purged); a delete is finished as it was asked.
      const t = teardown(name, d.kind === 'create' || d.params.purge === true, { recovered: true });
      for (const step of t.steps) await step.run({ cancelled: () => false });
      const archived = t.archivedTo();
      return d.kind === 'create'
        ? { status: 'rolled_back', error: 'interrupted by a stop of pocketd; the half-made app was removed on restart' }
        : {
            status: 'success',
            error: `interrupted by a stop of pocketd; the delete was finished on restart${archived ? ` (data archived to ${archived})` : ''}`,
          };
    }
    if ((d.kind === 'configure' || d.kind === 'repair') && (await findRow(name))) {
      const { row, settings } = await loadSettings(name);
      await installEnv(name, settings.env);
      await installUnit(settings);
      await installSite(settings);
      if (row.desired_state === 'running') {
        await privileged.run('restart', [name]);
        await waitHealthy(name, settings.port);
      }
      return {
        status: 'rolled_back',
        error: 'interrupted by a stop of pocketd; the settings in the store were put back on restart',
      };
    }
    return { status: 'failed', error: 'interrupted by a stop of pocketd' };
  }

  /** Apps whose installed unit or site differs from what pocketd renders. */
  async function drifted(): Promise<string[]> {
    const rows = await db.selectFrom('apps').select('name').where('status', '=', 'ready').orderBy('name').execute();
    const out: string[] = [];
    await host.refreshRoutes();
    for (const r of rows) {
      const { settings } = await loadSettings(r.name);
      const m = await configMatch(settings);
      if (!m.match)
        out.push(
          `${r.name} (${[!m.unit.match && 'unit', !m.site.match && 'site', !m.routes.match && 'caddy routes'].filter(Boolean).join(', ')})`,
        );
    }
    return out;
  }

  /** Apps whose create never finished (the daemon stopped): marked failed so they can be deleted. */
  async function markStale(): Promise<void> {
    await db
      .updateTable('apps')
      .set({ status: 'failed', updated_at: nowIso() })
      .where('status', 'in', ['creating', 'deleting'])
      .execute();
  }

  /** 404 unless the app exists; its unit's name otherwise. */
  async function unitOf(name: string): Promise<string> {
    await requireApp(db, name);
    return unitName(name);
  }

  return {
    validateCreate,
    create,
    list,
    get,
    drifted,
    getEnv,
    teardown,
    recover,
    markStale,
    unitOf,
    loadSettings,
    host,
  };
}

export type Apps = ReturnType<typeof createApps>;
