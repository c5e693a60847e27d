import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../shared/config.js';
import { startDaemon, openStore } from '../main/daemon.js';
import { createLogger } from '../shared/log.js';
import { PocketdError } from '../shared/errors.js';
import { scopeSchema, tokenNameSchema } from '../contract/scopes.js';
import { VERSION } from '../shared/version.js';
import { appsSleep } from './apps-sleep.js';
import { CliUsage, REPLICA_HELP, replicaCommand } from './replica.js';

const HELP = `pocketd ${VERSION} - keeps many PocketBase apps alive on one host

Usage:
  pocketd serve                                   run the daemon (API and dashboard)
  pocketd admin create --email E --password P     create an admin user
  pocketd admin create --email E --password-stdin   (password read from standard input)
  pocketd token create --name N --scope S [--expires-days D]
                                                  create an API token and print it once;
                                                  S is admin, app:<name>:read or app:<name>:deploy
  pocketd apps sleep NAME DURATION|off            let an app sleep after DURATION idle (e.g. 15m),
                                                  or never; through the API at POCKETD_URL with
                                                  the admin token in POCKETD_TOKEN
${REPLICA_HELP}
  pocketd --help | --version

Configuration comes from POCKETD_* environment variables and the JSON file named
by POCKETD_CONFIG; see README.md.

Exit codes: 0 ok, 1 runtime failure, 2 bad command line or configuration.`;

class UsageError extends Error {}

const emailSchema = z.email().max(254);
const passwordSchema = z.string().min(10, 'must be at least 10 characters').max(1024);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function check<T>(schema: z.ZodType<T>, value: unknown, flag: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new UsageError(`${flag}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

async function adminCreate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      email: { type: 'string' },
      password: { type: 'string' },
      'password-stdin': { type: 'boolean' },
    },
  });
  if (!values.email) throw new UsageError('--email is required');
  if (values.password === undefined && !values['password-stdin'])
    throw new UsageError('--password or --password-stdin is required');
  const email = check(emailSchema, values.email, '--email');
  const password = check(passwordSchema, values['password-stdin'] ? await readStdin() : values.password, '--password');
  const { db, auth } = await openStore(loadConfig());
  try {
    const user = await auth.createUser(email, password);
    process.stdout.write(`created admin ${user.email}; sign in with POST /api/auth/login\n`);
  } finally {
    await db.destroy();
  }
  return 0;
}

async function tokenCreate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string' },
      scope: { type: 'string' },
      'expires-days': { type: 'string' },
    },
  });
  if (!values.name) throw new UsageError('--name is required');
  if (!values.scope) throw new UsageError('--scope is required');
  const name = check(tokenNameSchema, values.name, '--name');
  const scope = check(scopeSchema, values.scope, '--scope');
  const days = check(
    z.coerce.number().int().min(1, 'must be 1-365').max(365, 'must be 1-365'),
    values['expires-days'] ?? '90',
    '--expires-days',
  );
  const { db, auth } = await openStore(loadConfig());
  try {
    const { token, info } = await auth.createApiToken(name, scope, days, null);
    process.stderr.write(`token '${info.name}' (${info.scope}) expires ${info.expires_at}; it is shown only now:\n`);
    process.stdout.write(`${token}\n`);
  } finally {
    await db.destroy();
  }
  return 0;
}

async function serveCommand(): Promise<number> {
  const config = loadConfig();
  const log = createLogger(config.log_level);
  const daemon = await startDaemon(config, log);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'signal received');
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      daemon.stop().then(resolve, (err: unknown) => {
        log.error({ err }, 'error while stopping');
        resolve();
      });
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  return 0;
}

/** Runs one command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  // What pocketd writes (the store, staging, uploads) is its own: never readable by others, from creation.
  process.umask(0o077);
  try {
    const [cmd, sub, ...rest] = argv;
    if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      process.stdout.write(`${HELP}\n`);
      return cmd === undefined ? 2 : 0;
    }
    if (cmd === '--version' || cmd === '-v') {
      process.stdout.write(`pocketd ${VERSION}\n`);
      return 0;
    }
    if (cmd === 'serve') return await serveCommand();
    if (cmd === 'admin' && sub === 'create') return await adminCreate(rest);
    if (cmd === 'token' && sub === 'create') return await tokenCreate(rest);
    if (cmd === 'replica') return await replicaCommand(sub, rest, readStdin);
    if (cmd === 'apps' && sub === 'sleep') return await appsSleep(rest, process.env, (m) => new UsageError(m));
    throw new UsageError(`unknown command '${argv.slice(0, 2).join(' ')}'; see pocketd --help`);
  } catch (err) {
    if (
      err instanceof UsageError ||
      err instanceof CliUsage ||
      err instanceof ConfigError ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`pocketd: ${(err as Error).message}\n`);
      return 2;
    }
    if (err instanceof PocketdError) {
      process.stderr.write(`pocketd: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
