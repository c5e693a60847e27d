import { randomBytes } from 'node:crypto';
import type { ExecOptions } from '../shared/exec.js';
import { unitContext } from '../shared/templates.js';
import type { HelperContext } from './context.js';
import type { HelperExitCode } from '../shared/protocol.js';

/**
 * Work in an app's tree runs only inside that app's own sandbox: a transient
 * unit (systemd-run) with exactly the properties of the app's unit
 * (templates/sandbox.service.hbs): its user, its mount view, its syscall filter,
 * NoNewPrivileges, a cgroup of its own that a stop ends whole. Root hands it
 * descriptors (stdin, stdout) and never a path to follow. Nothing secret goes
 * into its argv or properties: both can be read by anyone (D-Bus, /proc).
 */

import { workUnitPrefix } from '../shared/naming.js';

export interface SandboxRun extends Pick<ExecOptions, 'stdin' | 'stdout' | 'timeoutMs' | 'input'> {
  /** Bind this release read-only into the view (the release's executable is run); none otherwise. */
  version?: string;
  /** Exit code of the helper when the work fails. */
  code?: HelperExitCode;
  /** Resource limits of the work's unit (`MemoryMax=…`, `CPUQuota=…`): the trial boot carries the app's. */
  limits?: string[];
}

/** Node inside the sandbox: MemoryDenyWriteExecute forbids V8's JIT, so it runs interpreted. */
export const SANDBOX_NODE_FLAGS = ['--jitless'];

export async function runInSandbox(
  ctx: HelperContext,
  name: string,
  argv: string[],
  opts: SandboxRun = {},
): Promise<string> {
  ctx.appIds(name); // refused unless pocketd made this app's user
  const unit = unitContext(ctx.layout, name, {
    port: 0,
    version: opts.version ?? '0.0.0',
    memory_max: null,
    cpu_quota: null,
  });
  const props = ctx.templates
    .sandboxProperties(unit)
    // Without a release to run, the release directory is not bound (it may not exist yet).
    .filter((p) => opts.version !== undefined || !p.startsWith('BindReadOnlyPaths='));
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  return ctx.run(
    opts.code ?? 72,
    'systemd-run',
    [
      '--quiet',
      '--wait',
      '--collect',
      '--pipe',
      `--unit=${workUnitPrefix(name)}${randomBytes(6).toString('hex')}`,
      ...props.flatMap((p) => ['-p', p]),
      // No per-user configuration: a home no app can write, nothing inherited.
      '-p',
      'Environment=HOME=/nonexistent LC_ALL=C.UTF-8',
      '-p',
      `RuntimeMaxSec=${Math.ceil(timeoutMs / 1000)}`,
      '-p',
      'TasksMax=256',
      ...(opts.limits ?? []).flatMap((p) => ['-p', p]),
      `--working-directory=${ctx.appDir(name)}`,
      '--',
      ...argv,
    ],
    { timeoutMs: timeoutMs + 10_000, stdin: opts.stdin, stdout: opts.stdout, input: opts.input },
  );
}
