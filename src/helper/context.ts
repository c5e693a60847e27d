import path from 'node:path';
import { exec, ExecError, type ExecOptions } from '../shared/exec.js';
import { createTemplates, type Templates } from '../shared/render.js';
import { layoutOf, type AppLayout } from '../shared/templates.js';
import { appDirOf, appUserOf } from '../shared/naming.js';
import type { HelperConfig } from './config.js';
import { HelperError } from './errors.js';
import type { HelperExitCode } from '../shared/protocol.js';
import { createRecords, type Ids, type Records } from './root-files.js';
import { appIdentity } from './users.js';
import { runInSandbox, SANDBOX_NODE_FLAGS, type SandboxRun } from './sandbox-run.js';

export type AsAppIo = Pick<SandboxRun, 'stdin' | 'stdout' | 'timeoutMs' | 'version' | 'code' | 'limits'>;

/** What every verb works with: root's config and templates, the helper's records, and the app's identity. */
export interface HelperContext {
  config: HelperConfig;
  /** The helper's own file: the replica's transient units run its as-replica work. */
  selfFile: string;
  templates: Templates;
  records: Records;
  layout: AppLayout;
  appDir(name: string): string;
  /** The user and group an app runs as (refused unless pocketd made that user for that app). */
  appIds(name: string): Ids;
  appUser(name: string): string;
  /**
   * Runs one piece of as-app work (src/helper/as-app.ts) as the app, inside the app's own sandbox;
   * `args` follow the app's directory, `io.version` binds that release. Answers what it printed.
   */
  asApp(name: string, op: string, io?: AsAppIo, args?: string[]): Promise<string>;
  /** Runs a command; a failure becomes a HelperError with `code` and the command's last words. */
  run(code: HelperExitCode, cmd: string, args: string[], opts?: ExecOptions): Promise<string>;
}

export function createContext(config: HelperConfig, selfFile: string): HelperContext {
  const layout = layoutOf(config);
  const appDir = (name: string) => appDirOf(config.apps_dir, name);
  const appUser = appUserOf;
  const run: HelperContext['run'] = async (code, cmd, args, opts = {}) => {
    try {
      return (await exec(cmd, args, { timeoutMs: 120_000, ...opts })).stdout;
    } catch (err) {
      if (!(err instanceof ExecError)) throw err;
      const said = err.stderr.trim().split('\n').filter(Boolean).slice(-3).join('; ');
      throw new HelperError(code, `${path.basename(cmd)} ${args[0] ?? ''} failed${said ? `: ${said}` : ''}`);
    }
  };
  const ctx: HelperContext = {
    config,
    selfFile,
    layout,
    appDir,
    appUser,
    run,
    templates: createTemplates(config.templates_dir),
    records: createRecords(config.state_dir, { min: config.port_min, max: config.port_max }),
    appIds(name) {
      const { uid, gid } = appIdentity(ctx, name);
      return { uid, gid };
    },
    asApp: (name, op, io = {}, args = []) =>
      runInSandbox(
        ctx,
        name,
        [process.execPath, ...SANDBOX_NODE_FLAGS, selfFile, 'as-app', op, appDir(name), ...args],
        io,
      ),
  };
  return ctx;
}
