import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../shared/config.js';
import { PocketdError } from '../../shared/errors.js';
import type { Journal } from '../../host/journal.js';
import { probeHealth } from '../../host/ports.js';
import type { Privileged } from '../../host/privileged.js';
import { caddyRoutesSchema, type CaddyRoutes } from '../../shared/protocol.js';
import type { Systemd, UnitDetails } from '../../host/systemd/units.js';
import { appDirOf, socketUnitOf, wakeUnitOf } from '../../shared/naming.js';
import { readIfExists } from '../../shared/files.js';
import { singleFlight } from '../../shared/single-flight.js';
import type { Templates } from '../../shared/render.js';
import { envFileOf, layoutOf, siteContext, unitContext } from '../../shared/templates.js';
import { sleepOf } from '../sleep/sleep-state.js';
import type { AppSettings } from './model.js';
import type { EventBus } from '../events.js';
import { startFailure } from './start-failure.js';

import { unitName } from '../../shared/naming.js';

/**
 * An app's files on the host: renders its unit and site, installs them and its
 * environment through the helper, and waits for its unit and its health.
 */
export function createAppHost(deps: {
  config: Config;
  privileged: Privileged;
  systemd: Systemd;
  journal: Journal;
  events: EventBus;
  /** The app's health path (the store's); /api/health when not given. */
  healthPath?: (name: string) => Promise<string>;
}) {
  const { config, privileged } = deps;
  // Handlebars and the templates load when a rendering is first wanted (a drift check, a configure), not with
  // the daemon: most of its life needs none.
  let loaded: Promise<Templates> | null = null;
  const templates = () =>
    (loaded ??= import('../../shared/render.js').then((m) => m.createTemplates(config.templates_dir)));
  const layout = layoutOf(config);
  const appDir = (name: string) => appDirOf(layout.apps_dir, name);
  const unitFile = (name: string) => path.join(config.unit_dir, unitName(name));
  const siteFile = (name: string) => path.join(config.sites_dir, `${name}.caddy`);
  const envFile = (name: string) => envFileOf(layout, name);

  // The helper renders what it installs from root's copy of the same templates;
  // these renderings are what the installed files are compared with (drift).
  const unitSpec = (s: AppSettings) => ({
    port: s.port,
    version: s.version,
    memory_max: s.memory_max,
    cpu_quota: s.cpu_quota,
    sleep: sleepOf(s),
  });
  /** The domains the app is served at: its own, and <name>.<base_domain> when a base domain is set. */
  const servedDomains = (s: { name: string; domains: string[] }): string[] => {
    const auto = config.base_domain ? `${s.name}.${config.base_domain}` : null;
    return auto && !s.domains.includes(auto) ? [...s.domains, auto] : s.domains;
  };
  const siteSpec = (s: AppSettings) => ({
    port: s.port,
    domains: servedDomains(s),
    http_only: config.caddy_http_only,
    body_max: config.request_body_max,
    tls: config.caddy_tls,
    sleep: sleepOf(s) !== null,
  });
  /**
   * The app's unit as pocketd renders it; for an app that may sleep, followed by its socket and
   * proxy, so a drift check compares all three (installedUnit reads them the same way).
   */
  const renderUnit = async (s: AppSettings): Promise<string> => {
    const t = await templates();
    const ctx = unitContext(layout, s.name, unitSpec(s));
    const wake = t.renderWake(ctx);
    return t.renderUnit(ctx) + (wake ? `\n${wake.socket}\n${wake.service}` : '');
  };
  const installedUnit = async (name: string): Promise<string | null> => {
    const read = (f: string) => readIfExists(path.join(config.unit_dir, f));
    const [unit, socket, proxy] = await Promise.all([
      read(unitName(name)),
      read(socketUnitOf(name)),
      read(wakeUnitOf(name)),
    ]);
    if (unit === null) return null;
    return socket === null && proxy === null ? unit : `${unit}\n${socket ?? ''}\n${proxy ?? ''}`;
  };
  const renderSite = async (s: AppSettings): Promise<string | null> =>
    servedDomains(s).length === 0 ? null : (await templates()).renderSite(siteContext(s.name, siteSpec(s)));

  const installUnit = async (s: AppSettings) => {
    await privileged.run('install-unit', [s.name], { spec: unitSpec(s) });
  };
  /** The app's site as its settings say, or none when it has no domain. */
  async function installSite(s: AppSettings) {
    await withRoutes(async () => {
      if (servedDomains(s).length === 0) await privileged.run('remove-site', [s.name]);
      // install-site answers what Caddy serves once it loaded the site: no second call to ask.
      else return privileged.run('install-site', [s.name], { spec: siteSpec(s) });
    });
  }
  /**
   * A new app whole, in one helper call: its directories, env, unit, site (when it has a domain) and
   * start. The helper removes what it made when a part fails.
   */
  async function createApp(s: AppSettings) {
    await withRoutes(() =>
      privileged.run('create-app', [s.name], {
        spec: { env: s.env, unit: unitSpec(s), site: servedDomains(s).length === 0 ? null : siteSpec(s) },
      }),
    );
  }
  /** Runs a call that may answer what Caddy serves; keeps that answer, or asks Caddy when there is none. */
  async function withRoutes(call: () => Promise<string | void>) {
    let routes: CaddyRoutes | null = null;
    try {
      const out = await call();
      if (out) routes = parseRoutes(out);
    } finally {
      if (routes) {
        known = routes;
        knownAt = Date.now();
      } else await readRoutes().catch(() => undefined);
    }
  }
  const parseRoutes = (out: string): CaddyRoutes | null => {
    try {
      const r = caddyRoutesSchema.safeParse(JSON.parse(out.trim() || 'null'));
      return r.success ? r.data : null;
    } catch {
      return null;
    }
  };
  const installEnv = async (name: string, env: Record<string, string>) => {
    await privileged.run('install-env', [name], { spec: { env } });
  };

  // What Caddy serves now for the apps' hosts, from its live config (the helper asks its root-only admin socket).
  // Kept and refreshed in the background every 30 s, at once after a site change and for the drift check, so a
  // read of an app starts no process.
  let known: CaddyRoutes | null = null;
  let knownAt = 0;
  const routeReads = singleFlight<CaddyRoutes>();
  function readRoutes(): Promise<CaddyRoutes> {
    return routeReads('caddy-routes', () =>
      privileged.run('caddy-routes', []).then((out) => {
        known = caddyRoutesSchema.parse(JSON.parse(out));
        knownAt = Date.now();
        return known;
      }),
    );
  }
  async function liveRoutes(): Promise<CaddyRoutes> {
    if (!known) return readRoutes();
    if (Date.now() - knownAt > 30_000) void readRoutes().catch(() => undefined);
    return known;
  }
  /** Whether Caddy routes each of the app's domains to the app's port and nowhere else. */
  async function routesMatch(s: AppSettings): Promise<{ match: boolean; expected: string[]; live: string[] }> {
    const live = await liveRoutes();
    const expected = servedDomains(s).map((d) => `${d} -> 127.0.0.1:${s.port}`);
    const actual = servedDomains(s).flatMap((d) => (live[d] ?? []).map((dial) => `${d} -> ${dial}`));
    return {
      match: expected.length === actual.length && expected.every((e, i) => actual[i] === e),
      expected,
      live: actual,
    };
  }

  async function unitDetails(name: string): Promise<UnitDetails | undefined> {
    return (await deps.systemd.show([unitName(name)])).get(unitName(name));
  }

  /** The socket of an app that may sleep: listening while the app sleeps, closed when it is stopped. */
  async function socketDetails(name: string): Promise<UnitDetails | undefined> {
    return (await deps.systemd.show([socketUnitOf(name)])).get(socketUnitOf(name));
  }

  /** Polls until the unit is in a wanted state (bounded); returns its details. */
  async function waitForUnit(name: string, ok: (d: UnitDetails) => boolean, timeoutMs = 20_000): Promise<UnitDetails> {
    const until = Date.now() + timeoutMs;
    let d = await unitDetails(name);
    while (Date.now() < until && !(d && ok(d))) {
      await sleep(150);
      d = await unitDetails(name);
    }
    if (!d || !ok(d)) {
      throw new PocketdError(
        'STATE_TIMEOUT',
        `${unitName(name)} did not reach the wanted state in ${timeoutMs / 1000} s (it is ${d?.active_state ?? 'unknown'}/${d?.sub_state ?? 'unknown'})`,
      );
    }
    return d;
  }

  /**
   * Waits until the app answers /api/health with 200, failing fast when its process keeps dying. `startedAt`
   * is when the process now watched was started (its lines alone explain a failure); by default, now.
   */
  async function waitHealthy(
    name: string,
    port: number,
    stop: () => boolean = () => false,
    startedAt = Date.now(),
  ): Promise<string> {
    const until = Date.now() + config.health_timeout_seconds * 1000;
    const t0 = Date.now();
    let last = '';
    let checks = 0;
    let lastUnitCheck = Date.now();
    const path = (await deps.healthPath?.(name)) ?? '/api/health';
    while (Date.now() < until) {
      if (stop()) return 'stopped waiting';
      const r = await probeHealth(port, 2000, path);
      if (r.status === 200) {
        // Health follows at once: the checker records it without waiting for its next round.
        deps.events.publish('app.gate_passed', name, { latency_ms: r.ms });
        return `healthy after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
      }
      last = r.status === null ? `no answer: ${r.error ?? 'connection refused'}` : `${path} answered ${r.status}`;
      // The unit is looked at about once a second, however often its health is asked.
      if (Date.now() - lastUnitCheck >= 1000) {
        lastUnitCheck = Date.now();
        const d = await unitDetails(name);
        if (d && (d.active_state === 'failed' || d.restarts > 0 || d.sub_state === 'auto-restart')) {
          const exit = await deps.systemd.exitOf(unitName(name)).catch(() => null);
          throw new PocketdError(
            'APP_CRASHED',
            `the app exits at start (${d.active_state}/${d.sub_state}, ${d.restarts} restarts${exit ? `, ${exit}` : ''}); ${await startFailure(deps.journal, unitName(name), startedAt)}`,
          );
        }
      }
      // PocketBase answers within a second of its start: asked often then, less after.
      await sleep(++checks < 60 ? 50 : 250);
    }
    throw new PocketdError(
      'HEALTH_TIMEOUT',
      `no healthy answer within ${config.health_timeout_seconds} s (${last}); ${await startFailure(deps.journal, unitName(name), startedAt)}`,
    );
  }

  return {
    appDir,
    unitFile,
    siteFile,
    envFile,
    servedDomains,
    renderUnit,
    installedUnit,
    renderSite,
    installUnit,
    installSite,
    createApp,
    installEnv,
    routesMatch,
    refreshRoutes: readRoutes,
    unitDetails,
    socketDetails,
    waitForUnit,
    waitHealthy,
  };
}

export type AppHost = ReturnType<typeof createAppHost>;
