import { z } from 'zod';
import { check, parse, UsageError } from './args.js';
import { name } from './apps.js';
import type { Api } from './client.js';
import { settle } from './follow.js';
import { out, table } from './output.js';

interface Backup {
  id: number;
  kind: string;
  status: string;
  size_bytes: number | null;
  created_at: string;
}
const id = (v: string | undefined) => check(z.coerce.number().int().positive(), v, '<id>');

/** `pocketd backups list|create|restore|download`. */
export async function backups(api: Api, sub: string | undefined, args: string[]): Promise<number> {
  if (sub === 'list') {
    const { values, pos } = parse(args, {}, ['app']);
    const r = await api.call<{ backups: Backup[] }>('GET', `/api/apps/${name(pos.app)}/backups`);
    out(values.json, r, () =>
      table(
        ['ID', 'KIND', 'STATUS', 'BYTES', 'CREATED'],
        r.backups.map((b) => [b.id, b.kind, b.status, b.size_bytes, b.created_at]),
      ),
    );
    return 0;
  }
  if (sub === 'create') {
    const { values, pos } = parse(args, {}, ['app']);
    const r = await api.call<Backup | { deployment_id: number; status: string }>(
      'POST',
      `/api/apps/${name(pos.app)}/backups`,
    );
    if ('deployment_id' in r) return settle(api, r, values.json);
    out(values.json, r, () => `backup ${r.id} of ${pos.app}: ${r.status}, ${r.size_bytes ?? 0} bytes`);
    return 0;
  }
  if (sub === 'restore') {
    const { values, pos } = parse(args, { yes: { type: 'boolean' } }, ['app', 'id']);
    if (!values.yes)
      throw new UsageError(`restoring replaces the data of ${pos.app} (a snapshot is taken first); add --yes`);
    const r = await api.call('POST', `/api/apps/${name(pos.app)}/backups/${id(pos.id)}/restore`);
    return settle(api, r, values.json);
  }
  if (sub === 'download') {
    const { values, pos } = parse(args, { output: { type: 'string', short: 'o' } }, ['app', 'id']);
    const file = values.output ?? `${pos.app}-backup-${id(pos.id)}.tar.gz`;
    const bytes = await api.download(`/api/apps/${name(pos.app)}/backups/${id(pos.id)}/download`, file);
    process.stderr.write(`wrote ${file} (${bytes} bytes)\n`);
    return 0;
  }
  throw new UsageError(`unknown command 'backups ${sub ?? ''}'; see pocketd --help`);
}
