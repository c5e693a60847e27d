import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

/** A child process that failed: the command, its exit code and what it said. */
export class ExecError extends Error {
  override name = 'ExecError';
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly stdout: string,
    reason?: string,
  ) {
    super(`${command} ${reason ?? `exited ${exitCode}`}${stderr.trim() ? `: ${stderr.trim().slice(-2000)}` : ''}`);
  }
}

export interface ExecOptions {
  timeoutMs?: number;
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Give back non-zero exits instead of throwing. */
  allowFailure?: boolean;
  maxOutputBytes?: number;
  /** Run as this user and group (the caller must be root); supplementary groups are dropped. */
  uid?: number;
  gid?: number;
  cwd?: string;
  /** A descriptor (or a pipe of another child) given to the child as its stdin instead of `input`. */
  stdin?: number | NodeJS.ReadableStream;
  /** A descriptor the child writes its stdout to; the result's stdout is then empty. */
  stdout?: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

let spawned = 0;
/** How many child processes this process has started: the figure that shows reads cost no process. */
export const childProcessesStarted = (): number => spawned;

const BASE_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  SYSTEMD_COLORS: '0',
  SYSTEMD_PAGER: '',
};

/**
 * The one way pocketd runs a program: an argv array (never a shell), a bounded
 * time and output, and a typed error on failure.
 */
export function exec(command: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const limit = opts.maxOutputBytes ?? 64 * 1024 * 1024;
  const shown = [command, ...args].join(' ');
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    spawned++;
    try {
      child = spawn(command, args, {
        env: { ...BASE_ENV, ...opts.env },
        stdio: [opts.stdin ?? 'pipe', opts.stdout ?? 'pipe', 'pipe'] as StdioOptions,
        uid: opts.uid,
        gid: opts.gid,
        cwd: opts.cwd,
      });
    } catch (err) {
      reject(new ExecError(shown, null, '', '', `could not start: ${(err as Error).message}`));
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let killedFor: string | undefined;
    const take = (into: Buffer[]) => (d: Buffer) => {
      size += d.length;
      if (size > limit) {
        killedFor = `printed more than ${limit} bytes`;
        child.kill('SIGKILL');
        return;
      }
      into.push(d);
    };
    child.stdout?.on('data', take(out));
    child.stderr?.on('data', take(err));
    const timer = setTimeout(() => {
      killedFor = `timed out after ${opts.timeoutMs} ms`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new ExecError(shown, null, '', '', `could not start: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const result = {
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (killedFor) reject(new ExecError(shown, code, result.stderr, result.stdout, killedFor));
      else if (result.code !== 0 && !opts.allowFailure)
        reject(new ExecError(shown, result.code, result.stderr, result.stdout));
      else resolve(result);
    });
    if (child.stdin) {
      child.stdin.on('error', () => {
        /* the child may exit without reading */
      });
      child.stdin.end(opts.input ?? '');
    }
  });
}

/** A long-running child whose stdout is read line by line (journal follow); `stop()` ends it. */
export function spawnLines(
  command: string,
  args: readonly string[],
  onLine: (line: string) => void,
  onExit: (code: number | null) => void,
) {
  spawned++;
  const child = spawn(command, args, { env: BASE_ENV, stdio: ['ignore', 'pipe', 'ignore'] });
  let rest = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    rest += d;
    let i: number;
    while ((i = rest.indexOf('\n')) !== -1) {
      onLine(rest.slice(0, i));
      rest = rest.slice(i + 1);
    }
    // A line longer than this is not one anybody can read: it is dropped, not buffered for ever.
    if (rest.length > 8 * 1024 * 1024) rest = '';
  });
  child.on('close', (code) => onExit(code));
  child.on('error', () => onExit(null));
  return {
    pid: child.pid,
    stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}

/**
 * A child whose stdout is a stream for someone else to read (a backup sent to a client); its
 * exit and the tail of its stderr come as a promise, and `kill()` ends it when the reader leaves.
 */
export function spawnOutput(command: string, args: readonly string[]) {
  spawned++;
  const child = spawn(command, args, { env: BASE_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr = (stderr + d).slice(-4096);
  });
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, stderr }));
    child.on('error', (e) => resolve({ code: null, stderr: e.message }));
  });
  return {
    stdout: child.stdout,
    done,
    kill() {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}
