import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bootScript, cgroupHome, SANDBOX_SRC } from './sandbox-boot.js';

/**
 * A private systemd booted as PID 1 in new PID and mount namespaces, on an
 * overlay of `/` whose writes live in a tmpfs: units, journald, Caddy and sudo
 * behave as on a host, and nothing written inside reaches the machine. The
 * network namespace is shared, so services inside listen on this machine's
 * loopback. See shared/host-sandbox.md.
 */
export interface Sandbox {
  /** systemd's PID as this machine sees it. */
  readonly pid: number;
  /** Where the project is mounted read-only inside. */
  readonly srcDir: string;
  readonly caddy: { httpPort: number; httpsPort: number; adminPort: number };
  /** Runs argv inside (never through a shell unless argv says so); never throws on a non-zero exit. */
  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Like exec, but a non-zero exit throws with its output. */
  run(argv: string[], opts?: ExecOptions): Promise<string>;
  readFile(file: string): Promise<string>;
  exists(file: string): Promise<boolean>;
  writeFile(file: string, content: string, mode?: string): Promise<void>;
  /** Powers off and waits until no process of the sandbox is left. */
  stop(): Promise<void>;
}

export interface ExecOptions {
  user?: string;
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class SandboxError extends Error {
  override name = 'SandboxError';
}

export { SANDBOX_SRC };
const projectRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const live = new Set<number>();

// A test that fails or is interrupted still takes its sandbox down: killing the
// namespace's PID 1 ends every process in it, and its mounts go with it.
function killAll() {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
}
process.once('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    // A program with its own handler (npm run sandbox) powers off gracefully itself.
    if (process.listenerCount(sig) > 1) return;
    killAll();
    process.exit(130);
  });
}

/** Why the sandbox cannot boot here, or null when it can. */
export function cannotBootReason(): string | null {
  if (process.platform !== 'linux') return `the sandbox needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the sandbox needs root (unshare, mounts, pivot_root); run the tests as root';
  for (const tool of ['/usr/bin/unshare', '/usr/bin/nsenter', '/lib/systemd/systemd']) {
    if (!existsSync(tool)) return `the sandbox needs ${tool} (apt-get install systemd util-linux)`;
  }
  for (const tool of ['/usr/bin/caddy', '/usr/bin/sudo']) {
    if (!existsSync(tool)) return `the sandbox needs ${tool} (apt-get install caddy sudo)`;
  }
  return null;
}

/** A port nobody on this machine listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Boots a sandbox; fails with the reason when it cannot. */
export async function bootSandbox(opts: { timeoutMs?: number; projectDir?: string } = {}): Promise<Sandbox> {
  const reason = cannotBootReason();
  if (reason) throw new SandboxError(reason);
  const httpPort = await freePort();
  const httpsPort = await freePort();
  const adminPort = await freePort();
  const cgroups = cgroupHome();
  const caddyfile = `{
\tadmin localhost:${adminPort}
\thttp_port ${httpPort}
\thttps_port ${httpsPort}
\tauto_https disable_redirects
\tskip_install_trust
}
`;
  const child: ChildProcess = spawn(
    '/usr/bin/unshare',
    ['--pid', '--fork', '--mount', '--propagation', 'private', '/bin/bash', '-c', bootScript()],
    {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
        POCKETD_PROJECT: opts.projectDir ?? projectRoot,
        POCKETD_CADDYFILE: caddyfile,
        POCKETD_CGROUPS: cgroups.spec,
      },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const unsharePid = child.pid!;
  live.add(unsharePid);
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let pid = 0;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new SandboxError(`sandbox boot failed (exit ${child.exitCode}): ${stderr.trim()}`);
    const kid = childPids(unsharePid)[0];
    if (kid) {
      try {
        if (readFileSync(`/proc/${kid}/cmdline`, 'utf8').startsWith('/lib/systemd/systemd')) {
          pid = kid;
          break;
        }
      } catch {
        /* still exec-ing */
      }
    }
    await sleep(20);
  }
  if (!pid) {
    killAll();
    throw new SandboxError(`systemd did not start in the sandbox: ${stderr.trim()}`);
  }
  live.add(pid);
  child.unref();

  const nsenter = (argv: string[], o: ExecOptions = {}): string[] => {
    const inner = o.user ? ['/usr/sbin/runuser', '-u', o.user, '--', ...argv] : argv;
    const env = o.env ? ['/usr/bin/env', ...Object.entries(o.env).map(([k, v]) => `${k}=${v}`)] : [];
    return ['/usr/bin/nsenter', '-t', String(pid), '-m', '-p', '--', ...env, ...inner];
  };

  const exec = (argv: string[], o: ExecOptions = {}): Promise<ExecResult> =>
    new Promise((resolve, reject) => {
      const [cmd, ...args] = nsenter(argv, o);
      const p = spawn(cmd!, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: '/root' },
      });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      p.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      const timer = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 60_000);
      p.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      p.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : 1), stdout: out, stderr: err });
      });
      p.stdin.on('error', () => {
        /* the command may exit without reading its input */
      });
      p.stdin.end(o.input ?? '');
    });

  const run = async (argv: string[], o: ExecOptions = {}) => {
    const r = await exec(argv, o);
    if (r.code !== 0)
      throw new SandboxError(`${argv.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  };

  // Wait for boot to finish; "degraded" means a unit failed, which is still a usable host.
  let state = '';
  while (Date.now() < deadline) {
    state = (await exec(['systemctl', 'is-system-running'])).stdout.trim();
    if (state === 'running' || state === 'degraded') break;
    await sleep(50);
  }
  if (state !== 'running' && state !== 'degraded') {
    killAll();
    throw new SandboxError(`sandbox systemd did not finish booting (state '${state}')`);
  }

  let stopped = false;
  return {
    pid,
    srcDir: SANDBOX_SRC,
    caddy: { httpPort, httpsPort, adminPort },
    exec,
    run,
    readFile: (file) => run(['cat', '--', file]),
    exists: async (file) => (await exec(['test', '-e', file])).code === 0,
    async writeFile(file, content, mode = '0644') {
      // stdin is a socket here, which /dev/stdin cannot open: let a shell redirect it.
      await run(['/bin/sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"', 'sh', file, mode], {
        input: content,
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await exec(['systemctl', 'poweroff', '--no-block'], { timeoutMs: 5000 }).catch(() => undefined);
      const until = Date.now() + 20_000;
      while (Date.now() < until && (alive(pid) || alive(unsharePid))) await sleep(50);
      for (const p of [pid, unsharePid]) {
        if (alive(p)) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
      while (alive(pid) || alive(unsharePid)) await sleep(20);
      live.delete(pid);
      live.delete(unsharePid);
      await cgroups.remove();
    },
  };
}

/** Whether any process of a sandbox whose systemd had this PID is still alive. */
export const isAlive = alive;
