import { PocketdError } from '../errors.js';
import { exec, ExecError } from './exec.js';

/** The helper's verbs; the helper refuses anything else (deploy/pocketd-helper). */
export type HelperVerb =
  | 'install-unit' | 'remove-unit' | 'start' | 'stop' | 'restart' | 'enable' | 'disable'
  | 'install-site' | 'remove-site' | 'reload-caddy' | 'validate-caddy'
  | 'prepare-app' | 'archive-app' | 'purge-app' | 'install-env' | 'remove-env' | 'superuser'
  | 'backup' | 'restore-backup' | 'delete-backup' | 'install-bundle' | 'revert-bundle';

/** Exit codes the helper documents, and what they mean to a caller. */
const EXIT: Record<number, { code: string; status: number }> = {
  64: { code: 'HELPER_USAGE', status: 500 },
  65: { code: 'HELPER_REFUSED', status: 422 },
  66: { code: 'HELPER_STAGED_FILE', status: 500 },
  69: { code: 'SYSTEMD_FAILED', status: 502 },
  70: { code: 'CADDY_INVALID', status: 422 },
  71: { code: 'CADDY_RELOAD_FAILED', status: 502 },
  72: { code: 'APP_DIR_FAILED', status: 500 },
  73: { code: 'SUPERUSER_FAILED', status: 502 },
  74: { code: 'APP_RUNNING', status: 409 },
};

export interface Privileged {
  run(verb: HelperVerb, args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
}

/**
 * Every change that needs root goes through here: `sudo -n <helper> <verb> <args>`.
 * `-n` makes a password prompt a failure, never a hang.
 */
export function createPrivileged(helper: string, useSudo: boolean): Privileged {
  return {
    async run(verb, args, opts = {}) {
      const [cmd, argv] = useSudo ? ['/usr/bin/sudo', ['-n', helper, verb, ...args]] : [helper, [verb, ...args]];
      try {
        const r = await exec(cmd, argv, { input: opts.input, timeoutMs: opts.timeoutMs ?? 90_000 });
        return r.stdout;
      } catch (err) {
        if (!(err instanceof ExecError)) throw err;
        const known = err.exitCode !== null ? EXIT[err.exitCode] : undefined;
        const detail = err.stderr.trim().split('\n').filter(Boolean).slice(-3).join('; ') || err.message;
        throw new PocketdError(known?.code ?? 'HELPER_FAILED', `${verb} ${args[0] ?? ''}: ${detail}`,
          { status: known?.status ?? 500, cause: err });
      }
    },
  };
}
