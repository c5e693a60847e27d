import { z } from 'zod';
import type { TokenInfo } from '../contract/tokens.js';
import { openStore } from '../main/store.js';
import { scopeSchema, tokenNameSchema } from '../contract/scopes.js';
import { check, parse, UsageError } from './args.js';
import { connect, localConfig } from './client.js';
import { out, table } from './output.js';

/** What the token commands do, through the API (POCKETD_URL) or straight in the local store (a stopped daemon too). */
interface TokenOps {
  list(): Promise<TokenInfo[]>;
  create(name: string, scope: string, days: number): Promise<{ token: string; info: TokenInfo }>;
  revoke(id: number): Promise<void>;
  close(): Promise<void>;
}

async function ops(): Promise<TokenOps> {
  if (process.env.POCKETD_URL) {
    const api = await connect();
    return {
      list: async () => (await api.call<{ tokens: TokenInfo[] }>('GET', '/api/tokens')).tokens,
      create: (name, scope, days) => api.call('POST', '/api/tokens', { name, scope, expires_days: days }),
      revoke: async (id) => {
        await api.call('DELETE', `/api/tokens/${id}`);
      },
      close: () => api.close(),
    };
  }
  const { db, auth } = await openStore(localConfig());
  return {
    list: auth.listTokens,
    create: (name, scope, days) => auth.createApiToken(name, scope, days, null),
    revoke: auth.revoke,
    close: () => db.destroy(),
  };
}

/** `pocketd tokens list|create|revoke` (and the older `pocketd token create`). */
export async function tokens(sub: string | undefined, args: string[]): Promise<number> {
  if (sub === 'create') {
    const { values } = parse(
      args,
      { name: { type: 'string' }, scope: { type: 'string' }, 'expires-days': { type: 'string' } },
      [],
    );
    if (!values.name) throw new UsageError('--name is required');
    if (!values.scope) throw new UsageError('--scope is required');
    const name = check(tokenNameSchema, values.name, '--name');
    const scope = check(scopeSchema, values.scope, '--scope');
    const days = check(
      z.coerce.number().int().min(1, 'must be 1-365').max(365, 'must be 1-365'),
      values['expires-days'] ?? '90',
      '--expires-days',
    );
    const t = await ops();
    try {
      const { token, info } = await t.create(name, scope, days);
      process.stderr.write(`token '${info.name}' (${info.scope}) expires ${info.expires_at}; it is shown only now:\n`);
      process.stdout.write(`${token}\n`);
    } finally {
      await t.close();
    }
    return 0;
  }
  if (sub === 'list') {
    const { values } = parse(args, {}, []);
    const t = await ops();
    try {
      const list = await t.list();
      out(values.json, { tokens: list }, () =>
        table(
          ['ID', 'NAME', 'SCOPE', 'PREFIX', 'EXPIRES', 'LAST USED'],
          list.map((x) => [x.id, x.name, x.scope, x.prefix, x.expires_at, x.last_used_at]),
        ),
      );
    } finally {
      await t.close();
    }
    return 0;
  }
  if (sub === 'revoke') {
    const { pos } = parse(args, {}, ['id']);
    const id = check(z.coerce.number().int().positive(), pos.id, '<id>');
    const t = await ops();
    try {
      await t.revoke(id);
      process.stderr.write(`token ${id} revoked\n`);
    } finally {
      await t.close();
    }
    return 0;
  }
  throw new UsageError(`unknown command 'tokens ${sub ?? ''}'; see pocketd --help`);
}
