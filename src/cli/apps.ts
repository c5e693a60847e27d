import { appNameSchema, versionSchema } from '../shared/rules.js';
import { check, parse, UsageError } from './args.js';
import type { Api } from './client.js';
import { follow, report, settle } from './follow.js';
import { out, table } from './output.js';

interface AppRow {
  name: string;
  state: string;
  version: string;
  bundle: number | null;
  port: number;
  domains: string[];
  desired_state: string;
  runtime: { main_pid: number | null; restarts: number; active_since: string | null } | null;
}

/** `pocketd apps list|show|create|start|stop|restart|delete`. */
export async function apps(api: Api, sub: string | undefined, args: string[]): Promise<number> {
  if (sub === 'list') {
    const { values } = parse(args, {}, []);
    const r = await api.call<{ apps: AppRow[] }>('GET', '/api/apps?limit=500');
    out(values.json, r, () =>
      table(
        ['NAME', 'STATE', 'VERSION', 'BUNDLE', 'PORT', 'DOMAINS'],
        r.apps.map((a) => [a.name, a.state, a.version, a.bundle, a.port, a.domains.join(',')]),
      ),
    );
    return 0;
  }
  if (sub === 'show') {
    const { values, pos } = parse(args, {}, ['app']);
    const a = await api.call<AppRow & Record<string, unknown>>('GET', `/api/apps/${name(pos.app)}`);
    const health = await api.call<{ state: string; history: Array<{ at: string; error: string | null }> }>(
      'GET',
      `/api/apps/${name(pos.app)}/health?limit=5`,
    );
    out(values.json, { ...a, health }, () =>
      [
        `${a.name}: ${a.state} (wanted ${a.desired_state}), health ${health.state}`,
        `  PocketBase ${a.version}, bundle ${a.bundle ?? 'none'}, port ${a.port}`,
        `  domains   ${a.domains.join(', ') || '-'}`,
        `  process   ${a.runtime?.main_pid ?? '-'}, ${a.runtime?.restarts ?? 0} restarts, since ${a.runtime?.active_since ?? '-'}`,
        ...health.history.filter((h) => h.error).map((h) => `  ${h.at}  ${h.error}`),
      ].join('\n'),
    );
    return 0;
  }
  if (sub === 'create') {
    const { values, pos } = parse(
      args,
      {
        domain: { type: 'string', multiple: true },
        version: { type: 'string' },
        port: { type: 'string' },
        'memory-max': { type: 'string' },
        'cpu-quota': { type: 'string' },
      },
      ['app'],
    );
    const body: Record<string, unknown> = { name: name(pos.app), domains: values.domain ?? [] };
    if (values.version) body.pocketbase_version = check(versionSchema, values.version, '--version');
    if (values.port) body.port = Number(values.port);
    if (values['memory-max']) body.memory_max = values['memory-max'];
    if (values['cpu-quota']) body.cpu_quota = Number(values['cpu-quota']);
    const r = await api.call<{ deployment_id: number }>('POST', '/api/apps', body);
    return report(await follow(api, r.deployment_id, values.json), values.json);
  }
  if (sub === 'start' || sub === 'stop' || sub === 'restart') {
    const { values, pos } = parse(args, {}, ['app']);
    const r = await api.call<AppRow | { deployment_id: number; status: string }>(
      'POST',
      `/api/apps/${name(pos.app)}/${sub}`,
    );
    if ('deployment_id' in r) return settle(api, r, values.json);
    out(values.json, r, () => `${r.name}: ${r.state}${r.runtime?.main_pid ? `, pid ${r.runtime.main_pid}` : ''}`);
    return 0;
  }
  if (sub === 'delete') {
    const { values, pos } = parse(args, { purge: { type: 'boolean' }, yes: { type: 'boolean' } }, ['app']);
    if (!values.yes)
      throw new UsageError(`deleting ${pos.app} stops it and archives its data (--purge: deletes it); add --yes`);
    const r = await api.call('DELETE', `/api/apps/${name(pos.app)}${values.purge ? '?purge=true' : ''}`);
    return settle(api, r, values.json);
  }
  throw new UsageError(`unknown command 'apps ${sub ?? ''}'; see pocketd --help`);
}

/** `pocketd upgrade <app> <version>`: waits and prints its steps. */
export async function upgrade(api: Api, args: string[]): Promise<number> {
  const { values, pos } = parse(args, { 'allow-downgrade': { type: 'boolean' }, 'no-trial': { type: 'boolean' } }, [
    'app',
    'version',
  ]);
  const r = await api.call<{ deployment_id: number }>('POST', `/api/apps/${name(pos.app)}/upgrade`, {
    version: check(versionSchema, pos.version, '<version>'),
    trial: !values['no-trial'],
    allow_downgrade: values['allow-downgrade'] === true,
  });
  return report(await follow(api, r.deployment_id, values.json), values.json);
}

export const name = (v: string | undefined): string => check(appNameSchema, v, '<app>');
