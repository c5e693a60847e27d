import type { AppRow, AppStatus } from '../../db/schema.js';
import { readIfExists, sha256 } from '../../shared/files.js';
import type { UnitDetails } from '../../host/systemd/units.js';
import type { AppDeps } from './deps.js';
import type { AppDetail as ContractDetail, AppState, AppView, Runtime } from '../../contract/apps.js';
import { unitName } from '../../shared/naming.js';
import { maskEnv, settingsOf, type AppSettings } from './model.js';
import { APP_UNIT_GLOB } from '../../shared/naming.js';
import { healthPathOf } from '../health-path.js';

// The shapes are the API's contract (zod, src/contract/apps.ts); what is built here must match them.
export type { AppState, AppView, Runtime } from '../../contract/apps.js';
/** An app with its env and config facts; the API adds what Caddy serves (certificates). */
export type AppDetail = Omit<ContractDetail, 'certificates' | 'admin_url'>;
export type FileMatch = AppDetail['config_match']['unit'];
import { socketUnitOf } from '../../shared/naming.js';
import { formatDuration } from '../sleep/sleep-after.js';
import { isAsleep } from '../sleep/sleep-state.js';

/** An app's state from its status, its unit, and whether it sleeps (its socket listens, its unit rests). */
export function stateOf(status: AppStatus, rt: Runtime | null, asleep: boolean): AppState {
  if (status === 'creating' || status === 'deleting') return status;
  if (!rt) return 'unknown';
  if (asleep) return 'sleeping';
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

const view = (row: AppRow, domains: string[], runtime: Runtime | null, socket?: UnitDetails): AppView => ({
  name: row.name,
  port: row.port,
  version: row.version,
  domains,
  memory_max: row.memory_max,
  cpu_quota: row.cpu_quota,
  bundle: row.bundle,
  backup_schedule: row.backup_schedule,
  backup_keep: row.backup_keep,
  health_path: healthPathOf(row.health_path),
  sleep_after: row.sleep_after === null ? null : formatDuration(row.sleep_after),
  status: row.status,
  desired_state: row.desired_state,
  state: stateOf(row.status, runtime, isAsleep(row, runtime ?? undefined, socket)),
  runtime,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

/** What apps are: their settings with what systemd says of them, and whether the host still holds pocketd's files. */
export function createViews(deps: Pick<AppDeps, 'store' | 'host' | 'systemd'>) {
  const { store, host } = deps;

  async function list(filter: {
    status?: AppState;
    domain?: string;
    limit: number;
    offset: number;
  }): Promise<{ apps: AppView[]; total: number }> {
    let apps = await store.all();
    if (filter.domain) apps = apps.filter((a) => a.domains.includes(filter.domain!));
    // Two questions answer for every app: the loaded units, and the state of those wanted.
    const units = await deps.systemd.listUnits(APP_UNIT_GLOB);
    const loaded = units.filter((u) => u.load !== 'not-found').map((u) => u.unit);
    const wanted = new Set(apps.map((a) => unitName(a.row.name)));
    // The socket of each app that may sleep says whether it sleeps (listening) or is stopped (closed).
    const sockets = apps.filter((a) => a.row.sleep_after !== null).map((a) => socketUnitOf(a.row.name));
    const details = await deps.systemd.show([...loaded.filter((u) => wanted.has(u)), ...sockets]);
    let views = apps.map((a) =>
      view(a.row, a.domains, runtimeOf(details.get(unitName(a.row.name))), details.get(socketUnitOf(a.row.name))),
    );
    if (filter.status) views = views.filter((v) => v.state === filter.status);
    return { apps: views.slice(filter.offset, filter.offset + filter.limit), total: views.length };
  }

  /** The installed unit and site against pocketd's rendering, and Caddy's live routes against the app's domains. */
  async function configMatch(s: AppSettings) {
    const [unitText, siteText, routes] = await Promise.all([
      host.installedUnit(s.name),
      readIfExists(host.siteFile(s.name)),
      host.routesMatch(s),
    ]);
    const hash = (t: string | null) => (t === null ? null : sha256(t));
    const fileMatch = (expected: string | null, installed: string | null) => ({
      expected: hash(expected),
      installed: hash(installed),
      match: expected === installed,
    });
    const [expectedUnit, expectedSite] = await Promise.all([host.renderUnit(s), host.renderSite(s)]);
    const unit = fileMatch(expectedUnit, unitText);
    const site = fileMatch(expectedSite, siteText);
    return { match: unit.match && site.match && routes.match, unit, site, routes, site_present: siteText !== null };
  }

  async function get(name: string, opts: { maskAll?: boolean } = {}): Promise<AppDetail> {
    const { row, settings } = await store.load(name);
    const [details, socket, match] = await Promise.all([
      host.unitDetails(name),
      row.sleep_after === null ? undefined : host.socketDetails(name),
      configMatch(settings),
    ]);
    const { site_present, ...config_match } = match;
    return {
      ...view(row, settings.domains, runtimeOf(details), socket),
      env: maskEnv(settings.env, opts.maskAll),
      site_present,
      config_match,
    };
  }

  async function getEnv(name: string): Promise<{ env: Record<string, string> }> {
    const { settings } = await store.load(name);
    return { env: maskEnv(settings.env) };
  }

  /** Apps whose installed unit or site differs from what pocketd renders. */
  async function drifted(): Promise<string[]> {
    const out: string[] = [];
    await host.refreshRoutes();
    // Every app and its domains in two queries, not two per app.
    for (const { row, domains } of await store.all()) {
      if (row.status !== 'ready') continue;
      const m = await configMatch(settingsOf(row, domains));
      if (!m.match)
        out.push(
          `${row.name} (${[!m.unit.match && 'unit', !m.site.match && 'site', !m.routes.match && 'caddy routes'].filter(Boolean).join(', ')})`,
        );
    }
    return out;
  }

  /** 404 unless the app exists; its unit's name otherwise. */
  async function unitOf(name: string): Promise<string> {
    await store.require(name);
    return unitName(name);
  }

  return { list, get, getEnv, drifted, unitOf };
}
