import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { UsageError } from './args.js';
import type { z } from 'zod';
import type { HeldApp, RecoverResult } from '../contract/replicas.js';
import type { Api } from './client.js';
import { out, table } from './output.js';

/**
 * `pocketd recover --from FILE|- [--list] [--apps a,b] [--json]`: a new host
 * brought back from a replica target (issue #27). The target is the JSON a
 * `replica set` takes, from a file or standard input (its secrets never in
 * argv); the host's age key must be in place first (README: Keep the key).
 */
export const RECOVER_HELP = `  pocketd recover --from FILE|- --list             list the apps a replica target holds (target JSON as for
                                                  replica set; - reads it from standard input)
  pocketd recover --from FILE|- [--apps a,b]      create those apps (all by default) from the target and restore
                                                  their configuration, files and data (queued per app)`;

type Held = z.output<typeof HeldApp>;
type Result = z.output<typeof RecoverResult>;

export async function recoverCommand(api: Api, args: string[], stdin: () => Promise<string>): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      list: { type: 'boolean' },
      apps: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (positionals.length > 0 || !values.from)
    throw new UsageError('recover: --from FILE or --from - (stdin) is needed');
  let target: unknown;
  try {
    target = JSON.parse(values.from === '-' ? await stdin() : await readFile(values.from, 'utf8'));
  } catch {
    throw new UsageError('recover: --from must be the target as JSON (as replica set takes it)');
  }
  if (values.list) {
    const held = await api.call<Held[]>('POST', '/api/recover/list', { target });
    out(values.json, held, () =>
      table(
        ['app', 'in target', 'version', 'domains', 'files', 'error'],
        held.map((h) => [h.name, h.dir, h.version, h.domains.join(' '), h.files, h.error]),
      ),
    );
    return 0;
  }
  const apps = values.apps ? values.apps.split(',').filter(Boolean) : null;
  const r = await api.call<Result>('POST', '/api/recover', { target, apps });
  out(values.json, r, () =>
    [
      ...r.queued.map(
        (q) =>
          `${q.app}: queued (create ${q.create_deployment_id}, recover ${q.recover_deployment_id}` +
          `${q.configure_deployment_id ? `, settings ${q.configure_deployment_id}` : ''})` +
          `${q.settings_error ? `; settings refused: ${q.settings_error}` : ''}`,
      ),
      ...r.skipped.map((s) => `${s.dir}: skipped: ${s.reason}`),
    ].join('\n'),
  );
  return r.skipped.length > 0 ? 1 : 0;
}
