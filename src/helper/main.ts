import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startupSnapshot } from 'node:v8';
import type { z } from 'zod';
import { APP_NAME_PATTERN, VERSION_PATTERN } from '../shared/rules.js';
import {
  archiveApp,
  backup,
  deleteBackup,
  installBundle,
  migrateApp,
  prepareApp,
  purgeApp,
  restoreBackup,
  revertBundle,
} from './app-dirs.js';
import { deleteArchive, restoreArchive } from './archive.js';
import { runAsApp } from './as-app.js';
import { createApp } from './create-app.js';
import { runAsReplica } from './as-replica.js';
import { pushFiles } from './replica-files.js';
import { listTarget, restoreFiles } from './replica-recover.js';
import {
  replicaFilesRestoreSpecSchema,
  replicaFilesSpecSchema,
  replicaListSpecSchema,
} from '../shared/replica-files.js';
import {
  replicaCheckSpecSchema,
  replicaRestoreSpecSchema,
  replicaSpecSchema,
  replicaStatusesSpecSchema,
} from '../shared/replica-rules.js';
import { replicaStatuses } from './replica-statuses.js';
import {
  checkTarget,
  controlReplica,
  installReplica,
  removeReplica,
  replicaGenerations,
  restoreReplica,
} from './replica.js';
import { readBackup } from './read-backup.js';
import { caddyRoutes, installSite, reloadCaddy, removeSite, validateCaddy } from './caddy.js';
import { loadHelperConfig } from './config.js';
import { createContext, type HelperContext } from './context.js';
import { HelperError } from './errors.js';
import { parseJsonInput } from './json-input.js';
import {
  BACKUP_ID_PATTERN,
  HELPER_VERBS,
  archiveSpecSchema,
  createSpecSchema,
  envSpecSchema,
  siteSpecSchema,
  superuserSpecSchema,
  unitSpecSchema,
  type HelperVerb,
} from '../shared/protocol.js';
import { installRelease } from './release.js';
import { serve } from './serve.js';
import { superuser } from './superuser.js';
import { trialRelease } from './trial.js';
import { control, installEnv, installUnit, removeEnv, removeUnit } from './units.js';

/**
 * pocketd-helper: the only program the daemon may run as root (sudo -n). A
 * fixed table of verbs (src/helper/protocol.ts); arguments are checked against
 * their patterns and specs against the daemon's own zod schemas; every file root
 * writes is rendered here from root's templates. Exit codes: HELPER_EXIT.
 */

const SPEC_MAX = 256 * 1024;
type Handler = (ctx: HelperContext, a: string[]) => Promise<string | void>;

function readSpec<T extends z.ZodType>(schema: T): z.output<T> {
  let text: string;
  try {
    text = readFileSync(0, 'utf8');
  } catch (err) {
    throw new HelperError(66, `cannot read the spec on stdin: ${(err as Error).message}`);
  }
  if (text.length > SPEC_MAX) throw new HelperError(66, 'the spec on stdin is too large');
  return parseJsonInput(text, schema, 'spec on stdin');
}

const VERBS: Record<HelperVerb, Handler> = {
  'install-unit': (ctx, [n]) => installUnit(ctx, n!, readSpec(unitSpecSchema)),
  'remove-unit': (ctx, [n]) => removeUnit(ctx, n!),
  start: (ctx, [n]) => control(ctx, 'start', n!),
  stop: (ctx, [n]) => control(ctx, 'stop', n!),
  restart: (ctx, [n]) => control(ctx, 'restart', n!),
  enable: (ctx, [n]) => control(ctx, 'enable', n!),
  disable: (ctx, [n]) => control(ctx, 'disable', n!),
  // Answers what Caddy serves now (as caddy-routes does), so the daemon knows it without another call.
  'install-site': async (ctx, [n]) => {
    const routes = await installSite(ctx, n!, readSpec(siteSpecSchema));
    return routes ? JSON.stringify(routes) : '';
  },
  'remove-site': (ctx, [n]) => removeSite(ctx, n!),
  'validate-caddy': (ctx) => validateCaddy(ctx),
  'reload-caddy': async (ctx) => {
    await validateCaddy(ctx);
    await reloadCaddy(ctx);
  },
  'caddy-routes': async (ctx) => JSON.stringify(await caddyRoutes(ctx)),
  'install-env': (ctx, [n]) => installEnv(ctx, n!, readSpec(envSpecSchema)),
  'remove-env': (ctx, [n]) => removeEnv(ctx, n!),
  'install-release': (ctx, [v]) => installRelease(ctx, v!),
  'prepare-app': (ctx, [n]) => prepareApp(ctx, n!),
  'create-app': (ctx, [n]) => createApp(ctx, n!, readSpec(createSpecSchema)),
  'archive-app': (ctx, [n]) => archiveApp(ctx, n!),
  'purge-app': (ctx, [n]) => purgeApp(ctx, n!),
  'restore-archive': (ctx, [n]) => restoreArchive(ctx, n!, readSpec(archiveSpecSchema)),
  'delete-archive': (ctx) => deleteArchive(ctx, readSpec(archiveSpecSchema)),
  'migrate-app': (ctx, [n]) => migrateApp(ctx, n!),
  superuser: (ctx, [n]) => superuser(ctx, n!, readSpec(superuserSpecSchema)),
  backup: (ctx, [n, id]) => backup(ctx, n!, id!),
  'restore-backup': (ctx, [n, id]) => restoreBackup(ctx, n!, id!),
  'delete-backup': (ctx, [n, id]) => deleteBackup(ctx, n!, id!),
  'read-backup': (ctx, [n, id]) => readBackup(ctx, n!, id!),
  'install-bundle': (ctx, [n]) => installBundle(ctx, n!),
  'revert-bundle': (ctx, [n]) => revertBundle(ctx, n!),
  'trial-release': (ctx, [n, v]) => trialRelease(ctx, n!, v!),
  'replica-install': (ctx, [n]) => installReplica(ctx, n!, readSpec(replicaSpecSchema)),
  'replica-remove': (ctx, [n]) => removeReplica(ctx, n!),
  'replica-start': (ctx, [n]) => controlReplica(ctx, n!, 'start'),
  'replica-stop': (ctx, [n]) => controlReplica(ctx, n!, 'stop'),
  'replica-restore': (ctx, [n]) => restoreReplica(ctx, n!, readSpec(replicaRestoreSpecSchema)),
  'replica-generations': (ctx, [n]) => replicaGenerations(ctx, n!),
  'replica-statuses': (ctx) => replicaStatuses(ctx, readSpec(replicaStatusesSpecSchema)),
  'replica-check': (ctx, [n]) => checkTarget(ctx, n!, readSpec(replicaCheckSpecSchema).target),
  'replica-files': (ctx, [n]) => pushFiles(ctx, n!, readSpec(replicaFilesSpecSchema)),
  'replica-list': (ctx) => listTarget(ctx, readSpec(replicaListSpecSchema).target),
  'replica-files-restore': (ctx, [n]) => restoreFiles(ctx, n!, readSpec(replicaFilesRestoreSpecSchema)),
};

const ARG_RULES = { name: APP_NAME_PATTERN, id: BACKUP_ID_PATTERN, version: VERSION_PATTERN } as const;

/** Checks a verb and its arguments against the table, then runs it with a fresh context (config read again). */
async function dispatch(verb: string, args: string[]): Promise<string | void> {
  if (!Object.hasOwn(HELPER_VERBS, verb)) throw new HelperError(64, `unknown verb '${verb.slice(0, 40)}'`);
  const def = HELPER_VERBS[verb as HelperVerb];
  if (args.length !== def.args.length)
    throw new HelperError(64, `${verb} takes ${def.args.length} argument(s), got ${args.length}`);
  def.args.forEach((kind, i) => {
    if (!ARG_RULES[kind].test(args[i]!)) throw new HelperError(65, `invalid ${kind === 'name' ? 'app name' : kind}`);
  });
  const self = fileURLToPath(import.meta.url);
  return VERBS[verb as HelperVerb](createContext(loadHelperConfig(self), self), args);
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'as-app') return runAsApp(argv.slice(1));
  if (argv[0] === 'as-replica') return runAsReplica(argv.slice(1));
  process.umask(0o022);
  // The resident side (pocketd-helper.service, from its socket): the socket verbs only, each through dispatch.
  if (argv[0] === 'serve' && argv.length === 1) return serve(dispatch);
  const out = await dispatch(argv[0] ?? '', argv.slice(1));
  if (typeof out === 'string' && out !== '') process.stdout.write(`${out}\n`);
  return 0;
}

/** Runs one request; a helper whose work never settled (its event loop ran dry) must not look like a success. */
function run(argv: string[]): void {
  process.exitCode = 72;
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const code = err instanceof HelperError ? err.exitCode : 72;
      process.stderr.write(`pocketd-helper: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = code;
    },
  );
}

// Run plainly (`node pocketd-helper.cjs verb ...`), or from the startup snapshot install.sh builds of this
// evaluated bundle (`node --snapshot-blob pocketd-helper.blob verb ...`, where the verb is argv[1]): the
// bundle's modules are then not parsed and evaluated again on every call (issue #29).
if (startupSnapshot.isBuildingSnapshot()) startupSnapshot.setDeserializeMainFunction(() => run(process.argv.slice(1)));
else run(process.argv.slice(2));
