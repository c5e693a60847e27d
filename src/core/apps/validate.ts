import type { FieldIssue } from '../../shared/errors.js';
import { readIfExists } from '../../shared/files.js';
import { portInUse } from '../../host/ports.js';
import type { AppDeps } from './deps.js';
import type { CreateAppInput } from './model.js';
import { toBytes } from './rules.js';

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

type Checks = ValidationReport['checks'];
type Found = { errors: FieldIssue[]; warnings: FieldIssue[]; checks: Checks };

/**
 * A dry run of a create: every check, every error and warning, nothing
 * written. The create itself runs it again and refuses on any error.
 */
export function createValidation(deps: Pick<AppDeps, 'config' | 'store' | 'host' | 'releases'>) {
  const { config, store } = deps;

  async function validateCreate(input: CreateAppInput): Promise<ValidationReport> {
    const found: Found = {
      errors: [],
      warnings: [],
      checks: {
        name_available: true,
        port_available: true,
        domains_valid: true,
        domains_available: true,
        version_exists: true,
      },
    };
    if ((await store.find(input.name)) || (await readIfExists(deps.host.unitFile(input.name))) !== null) {
      found.checks.name_available = false;
      found.errors.push({ field: 'name', code: 'NAME_TAKEN', message: `an app or unit named ${input.name} exists` });
    }
    const port = await checkPort(input.port, found);
    await checkDomains(input, found);
    const version = await checkVersion(input.pocketbase_version ?? null, found);
    if (input.memory_max && toBytes(input.memory_max) < 64 * 1024 * 1024)
      found.warnings.push({
        field: 'memory_max',
        code: 'LOW_MEMORY',
        message: 'PocketBase may not start with less than 64M',
      });
    return { valid: found.errors.length === 0, ...found, resolved: { port, pocketbase_version: version } };
  }

  /** The port asked for, if it is free and in range; otherwise the first free one of the range. */
  async function checkPort(asked: number | undefined, f: Found): Promise<number | null> {
    const { from, to } = config.port_range;
    const refuse = (code: string, message: string) => {
      f.checks.port_available = false;
      f.errors.push({ field: 'port', code, message });
      return asked ?? null;
    };
    if (asked === undefined) {
      const used = await store.usedPorts();
      for (let p = from; p <= to; p++) if (!used.has(p) && !(await portInUse(p))) return p;
      return refuse('NO_FREE_PORT', `no free port left in ${from}-${to}`);
    }
    if (asked < from || asked > to) return refuse('PORT_OUT_OF_RANGE', `port must be within ${from}-${to}`);
    if (await store.portOwner(asked)) return refuse('PORT_IN_USE', `port ${asked} belongs to another app`);
    if (await portInUse(asked)) return refuse('PORT_IN_USE', `something on this host already listens on port ${asked}`);
    return asked;
  }

  /** No domain of another app; with a base domain, <name>.<base_domain> is each app's own, either way round. */
  async function checkDomains(input: CreateAppInput, f: Found): Promise<void> {
    const base = config.base_domain;
    if (base && (await store.domainOwners([`${input.name}.${base}`])).length > 0)
      f.errors.push({
        field: 'name',
        code: 'DOMAIN_TAKEN',
        message: `${input.name}.${base} is a domain of another app`,
      });
    const taken = (field: number, message: string) => {
      f.checks.domains_available = false;
      f.errors.push({ field: `domains.${field}`, code: 'DOMAIN_TAKEN', message });
    };
    for (const t of await store.domainOwners(input.domains))
      taken(input.domains.indexOf(t.domain), `${t.domain} is used by app ${t.app}`);
    if (base) {
      const auto = input.domains
        .map((d, i) => ({ i, app: d.endsWith(`.${base}`) ? d.slice(0, -base.length - 1) : '' }))
        .filter((x) => x.app && x.app !== input.name);
      const owners = await store.existing(auto.map((x) => x.app));
      for (const x of auto.filter((a) => owners.includes(a.app)))
        taken(x.i, `${input.domains[x.i]} is app ${x.app}'s own under the base domain`);
    }
    if (input.domains.length > 0) return;
    f.warnings.push(
      base
        ? { field: 'domains', code: 'BASE_DOMAIN_ONLY', message: `served at ${input.name}.${base} only` }
        : {
            field: 'domains',
            code: 'NO_DOMAINS',
            message: 'without a domain the app has no Caddy site and is reachable on loopback only',
          },
    );
  }

  /** The version asked for if the release source has it, or its latest stable; an installed one when offline. */
  async function checkVersion(asked: string | null, f: Found): Promise<string | null> {
    const refuse = (code: string, message: string) => {
      f.checks.version_exists = false;
      f.errors.push({ field: 'pocketbase_version', code, message });
    };
    const warn = (code: string, message: string) => f.warnings.push({ field: 'pocketbase_version', code, message });
    let releases;
    try {
      releases = await deps.releases.list();
    } catch (err) {
      // Offline hosts can still create apps on a release they already have.
      if (asked !== null && (await deps.releases.exists(asked).catch(() => false)))
        warn('SOURCE_UNAVAILABLE', `the release source is unreachable; using the installed ${asked}`);
      else refuse('RELEASE_SOURCE_UNAVAILABLE', (err as Error).message);
      return asked;
    }
    const latest = releases.find((r) => r.latest)?.version ?? null;
    if (asked === null) {
      if (latest === null) refuse('VERSION_NOT_FOUND', 'the release source lists no stable release');
      return latest;
    }
    const r = releases.find((x) => x.version === asked);
    if (!r) refuse('VERSION_NOT_FOUND', `PocketBase ${asked} does not exist at the release source`);
    else if (r.prerelease) warn('PRERELEASE', `${asked} is a prerelease`);
    else if (latest && asked !== latest) warn('NOT_LATEST', `${asked} is not the latest stable release (${latest})`);
    return asked;
  }

  return validateCreate;
}
