import { z } from 'zod';
import { domainSchema } from '../shared/rules.js';
import { check, parse, UsageError } from './args.js';
import { name } from './apps.js';
import type { ArchiveList } from '../contract/archives.js';
import type { Api } from './client.js';
import { follow, report } from './follow.js';
import { out, table } from './output.js';

const id = (v: string | undefined) => check(z.coerce.number().int().positive(), v, '<id>');

export const ARCHIVES_HELP = `  pocketd archives list                           deleted apps' archives (data, settings, sealed env)
  pocketd archives restore <id> [--name N] [--domain D]... [--no-domains]
                                                  restore one as a new app (its old name and domains by
                                                  default); waits, prints each step
  pocketd archives delete <id> --yes              delete an archive for good`;

/** `pocketd archives list|restore|delete`. */
export async function archives(api: Api, sub: string | undefined, args: string[]): Promise<number> {
  if (sub === 'list') {
    const { values } = parse(args, {}, []);
    const r = await api.call<z.output<typeof ArchiveList>>('GET', '/api/archives');
    out(values.json, r, () =>
      [
        table(
          ['ID', 'NAME', 'DELETED', 'BYTES', 'VERSION', 'DOMAINS', 'ENV'],
          r.archives.map((a) => [
            a.id,
            a.name,
            a.deleted_at,
            a.size_bytes,
            a.pocketbase_version,
            a.domains.join(','),
            a.env_keys.length,
          ]),
        ),
        `kept ${r.keep_days} days, ${r.max} at most`,
      ].join('\n'),
    );
    return 0;
  }
  if (sub === 'restore') {
    const { values, pos } = parse(
      args,
      {
        name: { type: 'string' },
        domain: { type: 'string', multiple: true } as const,
        'no-domains': { type: 'boolean' },
      },
      ['id'],
    );
    const body: Record<string, unknown> = {};
    if (values.name !== undefined) body.name = name(values.name);
    const domains = values.domain as string[] | undefined;
    if (domains) body.domains = domains.map((d) => check(domainSchema, d, '--domain'));
    if (values['no-domains']) body.domains = [];
    const r = await api.call<{ deployment_id: number; name: string }>(
      'POST',
      `/api/archives/${id(pos.id)}/restore`,
      body,
    );
    if (!values.json) process.stderr.write(`restoring archive ${pos.id} as ${r.name}\n`);
    return report(await follow(api, r.deployment_id, values.json), values.json);
  }
  if (sub === 'delete') {
    const { pos, values } = parse(args, { yes: { type: 'boolean' } }, ['id']);
    if (!values.yes) throw new UsageError(`deleting archive ${pos.id} removes its data and env for good; add --yes`);
    await api.call('DELETE', `/api/archives/${id(pos.id)}`);
    process.stderr.write(`archive ${pos.id} deleted\n`);
    return 0;
  }
  throw new UsageError(`unknown command 'archives ${sub ?? ''}'; see pocketd --help`);
}
