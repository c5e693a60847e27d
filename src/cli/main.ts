import { ConfigError } from '../shared/config.js';
import { PocketdError } from '../shared/errors.js';
import { VERSION } from '../shared/version.js';
import { admin } from './admin.js';
import { appsSleep } from './apps-sleep.js';
import { apps, upgrade } from './apps.js';
import { readStdin, UsageError } from './args.js';
import { archives, ARCHIVES_HELP } from './archives.js';
import { backups } from './backups.js';
import { ApiError, connect, type Api } from './client.js';
import { deploy } from './deploy.js';
import { logs } from './logs.js';
import { serve } from './serve.js';
import { status } from './status.js';
import { tokens } from './tokens.js';
import { REPLICA_HELP, replicaCommand } from './replica.js';
import { RECOVER_HELP, recoverCommand } from './recover.js';

const HELP = `pocketd ${VERSION} - keeps many PocketBase apps alive on one host

Usage:
  pocketd serve                                   run the daemon (API and dashboard)
  pocketd status                                  the daemon, the host's checks, every app
  pocketd apps list                               apps with their state
  pocketd apps show <app>                         one app: settings, process, recent health failures
  pocketd apps create <app> [--domain D]... [--version V] [--port P] [--memory-max M] [--cpu-quota Q]
  pocketd apps start|stop|restart <app>
  pocketd apps delete <app> --yes [--purge]       archive its data (--purge: delete it)
  pocketd apps sleep <app> DURATION|off           let an app sleep after DURATION idle (e.g. 15m), or never
  pocketd deploy <app> <zip> [--notes N] [--supersede]
                                                  upload a bundle and deploy it; waits, prints each step,
                                                  exits 1 with the reason when it fails
  pocketd upgrade <app> <version> [--allow-downgrade] [--no-trial]
  pocketd logs <app> [-f] [-n LINES] [--since S] [--priority 0-7] [--grep TEXT]
  pocketd backups list|create <app>
  pocketd backups restore <app> <id> --yes
  pocketd backups download <app> <id> [-o FILE]
${ARCHIVES_HELP}
  pocketd tokens list
  pocketd tokens create --name N --scope S [--expires-days D]
                                                  create an API token and print it once; S is admin,
                                                  app:<name>:read, app:<name>:deploy or app:<name>:manage
  pocketd tokens revoke <id>
  pocketd admin create --email E --password P | --password-stdin
  pocketd admin passwd --email E --password P | --password-stdin
                                                  set an admin's password (ends its sessions)
  pocketd admin totp-reset --email E              turn off an admin's two-factor sign-in (lost device)
${REPLICA_HELP}
${RECOVER_HELP}
  pocketd --help | --version

Every command that reads takes --json. Commands reach the API at POCKETD_URL with POCKETD_TOKEN
(another host, or this one); without POCKETD_URL they use this host's daemon (its listen address)
with a short-lived admin token made in its store, so they need to run as root or pocketd.
'tokens' without POCKETD_URL and 'admin' work in the store itself, with the daemon stopped too.
Configuration comes from POCKETD_* environment variables and the JSON file named by
POCKETD_CONFIG; see README.md.

Exit codes: 0 ok, 1 runtime failure (a failed deployment, an API error), 2 bad command line or
configuration.`;

type ApiCommand = (api: Api, sub: string | undefined, args: string[]) => Promise<number>;
/** Commands that talk to the API, by their first word. */
const API_COMMANDS: Record<string, ApiCommand> = {
  status: (api, sub, args) => status(api, sub === undefined ? args : [sub, ...args]),
  apps,
  deploy: (api, sub, args) => deploy(api, sub === undefined ? args : [sub, ...args]),
  upgrade: (api, sub, args) => upgrade(api, sub === undefined ? args : [sub, ...args]),
  logs: (api, sub, args) => logs(api, sub === undefined ? args : [sub, ...args]),
  backups,
  archives,
  recover: (api, sub, args) => recoverCommand(api, sub === undefined ? args : [sub, ...args], readStdin),
};

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
    if (cmd === 'serve') return await serve();
    if (cmd === 'admin') return await admin(sub, rest);
    if (cmd === 'tokens' || (cmd === 'token' && sub === 'create')) return await tokens(sub, rest);
    if (cmd === 'replica') return await replicaCommand(sub, rest, readStdin);
    if (cmd === 'apps' && sub === 'sleep') return await appsSleep(rest, process.env, (m) => new UsageError(m));
    const run = Object.hasOwn(API_COMMANDS, cmd) ? API_COMMANDS[cmd] : undefined;
    if (!run) throw new UsageError(`unknown command '${argv.slice(0, 2).join(' ')}'; see pocketd --help`);
    const api = await connect();
    try {
      return await run(api, sub, rest);
    } finally {
      await api.close();
    }
  } catch (err) {
    if (
      err instanceof UsageError ||
      err instanceof ConfigError ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`pocketd: ${(err as Error).message}\n`);
      return 2;
    }
    if (err instanceof ApiError || err instanceof PocketdError) {
      process.stderr.write(`pocketd: ${err.message}\n`);
      return 1;
    }
    if (err instanceof Error && /did not answer|ENOENT|EEXIST/.test(err.message)) {
      process.stderr.write(`pocketd: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
