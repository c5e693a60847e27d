import { parseArgs } from 'node:util';
import { UsageError } from './args.js';
import { loadConfig } from '../shared/config.js';
import { appNameSchema } from '../shared/rules.js';
import { timestampSchema } from '../shared/replica-rules.js';

/**
 * `pocketd replica set|show|check|restore APP`: the replica API from the
 * command line, through the running daemon (its address from the config, the
 * token from POCKETD_TOKEN). A target's secrets come on standard input as
 * JSON, never as arguments (anyone on the host can read a process's argv).
 */
export const REPLICA_HELP = `  pocketd replica set APP [--sync-seconds N] < target.json
                                                  set the app's off-host replica target (JSON on stdin:
                                                  {"type":"s3","endpoint":..,"bucket":..,"path":..,
                                                  "access_key_id":..,"secret_access_key":..} or
                                                  {"type":"sftp","host":..,"user":..,"path":..,"private_key":..})
  pocketd replica show APP                        the target (no secrets) and its last status
  pocketd replica check APP                       ask the target now (last sync, lag, generation)
  pocketd replica restore APP [--at UTC-INSTANT]  restore the app's data from its replica (queued)
                                                  (replica commands read the token from POCKETD_TOKEN)`;

export async function replicaCommand(sub: string | undefined, args: string[], stdin: () => Promise<string>) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { at: { type: 'string' }, 'sync-seconds': { type: 'string' }, url: { type: 'string' } },
  });
  const app = appNameSchema.safeParse(positionals[0]);
  if (!app.success || positionals.length !== 1) throw new UsageError('replica: name one app');
  const token = process.env.POCKETD_TOKEN;
  if (!token) throw new UsageError('replica: set POCKETD_TOKEN to an admin token (pocketd token create)');
  const listen = loadConfig().listen;
  const base = values.url ?? `http://${listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host}:${listen.port}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    process.stdout.write(`${text}\n`);
    return res.ok ? 0 : 1;
  };
  const path = `/api/apps/${app.data}`;
  if (sub === 'show') return call('GET', `${path}/replica`);
  if (sub === 'check') return call('POST', `${path}/replica/check`);
  if (sub === 'restore') {
    if (values.at !== undefined && !timestampSchema.safeParse(values.at).success)
      throw new UsageError('--at: must be an instant in UTC like 2026-11-30T01:02:03Z');
    return call('POST', `${path}/restore`, { timestamp: values.at ?? null });
  }
  if (sub === 'set') {
    let target: unknown;
    try {
      target = JSON.parse(await stdin());
    } catch {
      throw new UsageError('replica set: standard input must be the target as JSON');
    }
    const sync = values['sync-seconds'] === undefined ? undefined : Number(values['sync-seconds']);
    return call('PUT', `${path}/replica`, { target, ...(sync === undefined ? {} : { sync_seconds: sync }) });
  }
  throw new UsageError(`unknown command 'replica ${sub ?? ''}'; see pocketd --help`);
}
