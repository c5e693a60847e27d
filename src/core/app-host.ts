import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.js';
import { PocketdError } from '../errors.js';
import type { Journal } from '../host/journal.js';
import type { Staging } from '../host/files.js';
import { probeHealth } from '../host/ports.js';
import type { Privileged } from '../host/privileged.js';
import type { Systemd, UnitDetails } from '../host/systemd.js';
import type { Templates } from '../host/templates.js';
import type { AppSettings } from './app-model.js';

export const unitName = (name: string) => `pb-${name}.service`;

/**
 * An app's files on the host: renders its unit and site, installs them and its
 * environment through the helper, and waits for its unit and its health.
 */
export function createAppHost(deps: { config: Config; templates: Templates; privileged: Privileged; staging: Staging; systemd: Systemd; journal: Journal }) {
  const { config, templates, privileged, staging } = deps;
  const appDir = (name: string) => path.join(config.apps_dir, name);
  const unitFile = (name: string) => path.join(config.unit_dir, unitName(name));
  const siteFile = (name: string) => path.join(config.sites_dir, `${name}.caddy`);
  const envFile = (name: string) => path.join(config.env_dir, `${name}.env`);

  const renderUnit = (s: AppSettings) => templates.renderUnit({
    name: s.name, apps_user: config.apps_user, app_dir: appDir(s.name),
    release_bin: path.join(config.releases_dir, s.version, 'pocketbase'), port: s.port, env_file: envFile(s.name),
    memory_max: s.memory_max, cpu_quota: s.cpu_quota,
  });
  const renderSite = (s: AppSettings) => s.domains.length === 0 ? null : templates.renderSite({
    name: s.name, addresses: s.domains.map((d) => (config.caddy_http_only ? `http://${d}` : d)), port: s.port,
    body_max: config.request_body_max,
  });

  async function installUnit(s: AppSettings, text = renderUnit(s)) {
    await staging.put(unitName(s.name), text);
    try { await privileged.run('install-unit', [s.name]); } finally { await staging.remove(unitName(s.name)); }
  }
  async function installSite(name: string, text: string | null) {
    if (text === null) {
      await privileged.run('remove-site', [name]);
      return;
    }
    await staging.put(`${name}.caddy`, text);
    try { await privileged.run('install-site', [name]); } finally { await staging.remove(`${name}.caddy`); }
  }
  async function installEnv(name: string, text: string) {
    await staging.put(`${name}.env`, text, 0o600);
    try { await privileged.run('install-env', [name]); } finally { await staging.remove(`${name}.env`); }
  }

  async function unitDetails(name: string): Promise<UnitDetails | undefined> {
    return (await deps.systemd.show([unitName(name)])).get(unitName(name));
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
      throw new PocketdError('STATE_TIMEOUT', `${unitName(name)} did not reach the wanted state in ${timeoutMs / 1000} s (it is ${d?.active_state ?? 'unknown'}/${d?.sub_state ?? 'unknown'})`, { status: 504 });
    }
    return d;
  }

  /** Waits until the app answers /api/health with 200, failing fast when its process keeps dying. */
  async function waitHealthy(name: string, port: number, stop: () => boolean = () => false): Promise<string> {
    const until = Date.now() + config.health_timeout_seconds * 1000;
    const t0 = Date.now();
    let last = '';
    let checks = 0;
    while (Date.now() < until) {
      if (stop()) return 'stopped waiting';
      const r = await probeHealth(port, 2000);
      if (r.status === 200) return `healthy after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
      last = r.status === null ? `no answer (${r.error ?? 'connection refused'})` : `/api/health answered ${r.status}`;
      if (++checks % 4 === 0) {
        const d = await unitDetails(name);
        if (d && (d.active_state === 'failed' || d.restarts > 0 || d.sub_state === 'auto-restart')) {
          const tail = await deps.journal.tail(unitName(name), 5);
          throw new PocketdError('APP_CRASHED', `the app exits at start (${d.active_state}/${d.sub_state}, ${d.restarts} restarts); last log lines: ${tail.join(' | ')}`, { status: 502 });
        }
      }
      await sleep(250);
    }
    const tail = await deps.journal.tail(unitName(name), 5);
    throw new PocketdError('HEALTH_TIMEOUT', `no healthy answer within ${config.health_timeout_seconds} s (${last}); last log lines: ${tail.join(' | ')}`, { status: 502 });
  }

  return { appDir, unitFile, siteFile, envFile, renderUnit, renderSite, installUnit, installSite, installEnv, unitDetails, waitForUnit, waitHealthy };
}

export type AppHost = ReturnType<typeof createAppHost>;
