import { parse } from './args.js';
import { ApiError, type Api } from './client.js';
import { out, table } from './output.js';

interface Check {
  name: string;
  ok: boolean;
  message: string;
}

/** `pocketd status`: the daemon, the host's checks, and every app's state in one answer. */
export async function status(api: Api, args: string[]): Promise<number> {
  const { values } = parse(args, {}, []);
  const info = await api.call<{ version: string; uptime_seconds: number }>('GET', '/api/system/info');
  // 503 when a check fails: the same report, which is what this prints.
  const health = await api.call<{ ok: boolean; checks: Check[] }>('GET', '/api/system/health').catch((err: unknown) => {
    if (err instanceof ApiError && err.status === 503) return err.body as { ok: boolean; checks: Check[] };
    throw err;
  });
  const apps = await api.call<{
    apps: Array<{ name: string; state: string; desired_state: string; version: string; domains: string[] }>;
  }>('GET', '/api/apps?limit=500');
  const summary = await api.call<{ apps: Record<string, { health: string }> }>('GET', '/api/summary?limit=1');
  out(values.json, { info, health, apps: apps.apps, summary: summary.apps }, () =>
    [
      `pocketd ${info.version} at ${api.url}, up ${Math.floor(info.uptime_seconds / 60)} min; host checks ${health.ok ? 'pass' : 'FAIL'}`,
      ...health.checks.filter((c) => !c.ok).map((c) => `  ${c.name}: ${c.message}`),
      '',
      table(
        ['APP', 'STATE', 'WANTED', 'HEALTH', 'VERSION', 'DOMAINS'],
        apps.apps.map((a) => [
          a.name,
          a.state,
          a.desired_state,
          summary.apps[a.name]?.health ?? 'unknown',
          a.version,
          a.domains.join(','),
        ]),
      ),
    ].join('\n'),
  );
  return 0;
}
