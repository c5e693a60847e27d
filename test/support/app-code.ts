import { randomBytes } from 'node:crypto';
import type { Sandbox } from './sandbox.js';

/**
 * Runs a shell script as an app's own code would run it: PocketBase hooks run
 * commands with `$os.exec`, as the app's user inside the app's unit sandbox.
 * The script runs in a transient unit with every sandbox property of the app's
 * installed unit file (its user, mount view, syscall filter, NoNewPrivileges).
 * `background` leaves it running and returns its unit's name.
 */
export async function appCode(
  sbx: Sandbox,
  app: string,
  script: string,
  opts: { background?: boolean; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string; unit: string }> {
  const text = await sbx.readFile(`/etc/systemd/system/pb-${app}.service`);
  const sandbox = text.slice(text.indexOf('# The sandbox below'), text.indexOf('[Install]'));
  const props = sandbox
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .flatMap((l) => ['-p', l]);
  const unit = `hook-${app}-${randomBytes(4).toString('hex')}`;
  const wait = opts.background ? [] : ['--wait', '--pipe'];
  const r = await sbx.exec(
    ['systemd-run', '--quiet', '--collect', ...wait, `--unit=${unit}`, ...props, '--', '/bin/sh', '-c', script],
    { timeoutMs: opts.timeoutMs ?? 60_000 },
  );
  return { ...r, unit: `${unit}.service` };
}
