import { appNameSchema } from '../shared/rules.js';

/**
 * `pocketd apps sleep NAME DURATION|off`: sets an app's `sleep_after` through the running
 * daemon's API (PATCH /api/apps/NAME), so it takes the app's turn like any change. The API's
 * address is POCKETD_URL (default http://127.0.0.1:8091) and its token POCKETD_TOKEN (never an
 * argument: arguments are visible to every local user).
 */
export async function appsSleep(
  args: string[],
  env: NodeJS.ProcessEnv,
  usage: (msg: string) => Error,
): Promise<number> {
  const [name, duration, ...extra] = args;
  if (!name || !duration || extra.length) throw usage('usage: pocketd apps sleep NAME DURATION|off (e.g. 15m)');
  if (!appNameSchema.safeParse(name).success) throw usage(`NAME: '${name.slice(0, 40)}' is not an app name`);
  const token = env.POCKETD_TOKEN;
  if (!token) throw usage('POCKETD_TOKEN must hold an admin token');
  const base = (env.POCKETD_URL ?? 'http://127.0.0.1:8091').replace(/\/+$/, '');
  const res = await fetch(`${base}/api/apps/${name}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sleep_after: duration }),
  });
  const body = (await res.json().catch(() => null)) as {
    app?: { sleep_after: string | null };
    deployment_id?: number;
    error?: { message: string; fields?: Array<{ field: string; message: string }> };
  } | null;
  if (!res.ok) {
    const fields = body?.error?.fields?.map((f) => `${f.field}: ${f.message}`).join('; ');
    process.stderr.write(`pocketd: ${res.status} ${fields || body?.error?.message || res.statusText}\n`);
    return 1;
  }
  const now = body?.app ? (body.app.sleep_after ?? 'off') : `queued (deployment ${body?.deployment_id ?? '?'})`;
  process.stdout.write(`${name}: sleep_after ${now}\n`);
  return 0;
}
