import { spawn } from 'node:child_process';
import { cp, lstat, mkdir, mkdtemp, readdir, statfs } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serveArgv } from '../shared/pocketbase/versions.js';
import { BUNDLE_DIRS, clear, copyData, exists } from './app-files.js';
import { httpModule } from './lazy-builtins.js';

/**
 * The as-app half of `trial-release` (src/helper/trial.ts): runs as the app's
 * user inside the app's sandbox, with the new release bound read-only. Copies
 * the app's pb_data (a `VACUUM INTO` snapshot of each database, so the live app
 * keeps running) and its hooks, migrations and public files into a fresh
 * `.trial-*` directory of the app's own, boots the new release on that copy on
 * the port root chose, waits for `/api/health` 200, stops it, removes the copy,
 * and prints one JSON line: healthy or not, and the last lines it printed.
 */

export const TRIAL_PREFIX = '.trial-';
/** How long the new release may take to migrate the copy and answer its health check. */
export const TRIAL_BOOT_MS = 120_000;
const KEEP_LINES = 30;
const SICK_MS = 10_000;
const LINE_MAX = 500;

export interface TrialResult {
  healthy: boolean;
  /** Why it is not healthy (exit code, signal or time out). */
  reason: string;
  /** The last lines the release printed (stdout and stderr, in order), tokens blanked. */
  output: string[];
  copy_ms: number;
  boot_ms: number;
  bytes: number;
}

async function sizeOf(p: string): Promise<number> {
  const st = await lstat(p).catch(() => null);
  if (!st) return 0;
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  let total = 0;
  for (const n of await readdir(p)) total += await sizeOf(path.join(p, n));
  return total;
}

/** PocketBase prints a superuser install link (a token) when none exists: never carried into an error. */
const redact = (line: string) => line.replace(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, '[token]');

/** `as-app trial APP_DIR RELEASE_BIN PORT` */
export async function trial(app: string, args: string[]): Promise<void> {
  const [bin, portText] = args;
  if (args.length !== 2 || !bin || !path.isAbsolute(bin) || !/^[1-9][0-9]{3,4}$/.test(portText ?? ''))
    throw new Error('usage: as-app trial APP_DIR RELEASE_BIN PORT');
  // Copies a killed trial left behind go first: every trial starts from a fresh name.
  for (const n of await readdir(app)) if (n.startsWith(TRIAL_PREFIX)) await clear(path.join(app, n));
  const bytes =
    (await sizeOf(path.join(app, 'pb_data'))) +
    (await Promise.all(BUNDLE_DIRS.map((d) => sizeOf(path.join(app, d))))).reduce((a, b) => a + b, 0);
  const fs = await statfs(app);
  // The copy may not fill the disk the live app writes to: room for it and 256 MiB to spare.
  if (fs.bavail * fs.bsize < bytes + 256 * 1024 ** 2)
    throw new Error(`no room for a copy of ${bytes} bytes (${fs.bavail * fs.bsize} bytes free)`);
  const t0 = Date.now();
  const dir = await mkdtemp(path.join(app, TRIAL_PREFIX));
  try {
    await mkdir(path.join(dir, 'pb_data'), { mode: 0o700 });
    if (await exists(path.join(app, 'pb_data'))) await copyData(path.join(app, 'pb_data'), path.join(dir, 'pb_data'));
    for (const d of BUNDLE_DIRS) {
      if (await exists(path.join(app, d)))
        await cp(path.join(app, d), path.join(dir, d), { recursive: true, verbatimSymlinks: true });
      else await mkdir(path.join(dir, d), { mode: 0o750 });
    }
    const t1 = Date.now();
    const r = await boot(bin, dir, Number(portText));
    const out: TrialResult = { ...r, copy_ms: t1 - t0, boot_ms: Date.now() - t1, bytes };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await clear(dir);
  }
}

/** GET /api/health with node:http: fetch (undici) needs WebAssembly, which the sandbox's --jitless node lacks. */
const healthOf = (port: number) =>
  new Promise<{ status: number } | null>((resolve) => {
    const req = httpModule().get({ host: '127.0.0.1', port, path: '/api/health', timeout: 5000 }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });

async function boot(bin: string, dir: string, port: number) {
  const child = spawn(bin, serveArgv(dir, port), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const collect = (stream: NodeJS.ReadableStream) => {
    let part = '';
    stream.on('data', (d: Buffer) => {
      const all = (part + d.toString()).split('\n');
      part = all.pop() ?? '';
      if (part.length > LINE_MAX) part = part.slice(0, LINE_MAX);
      for (const l of all) if (l.trim()) lines.push(redact(l.slice(0, LINE_MAX)));
      if (lines.length > KEEP_LINES) lines.splice(0, lines.length - KEEP_LINES);
    });
    stream.on('end', () => {
      if (part.trim()) lines.push(redact(part));
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  const st: { exited: string | null; reason?: string } = { exited: null };
  const gone = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      st.exited = signal ? `killed by ${signal}` : `exited with code ${code}`;
      resolve();
    });
    child.on('error', (err) => {
      st.exited = `could not start: ${err.message}`;
      resolve();
    });
  });
  // Healthy: its own line says it listens on this port, and /api/health answers 200 there.
  const listening = `Server started at http://127.0.0.1:${port}`;
  const deadline = Date.now() + TRIAL_BOOT_MS;
  let healthy = false;
  let sickSince = 0;
  while (st.exited === null && Date.now() < deadline) {
    if (lines.some((l) => l.includes(listening))) {
      const res = await healthOf(port);
      if (res?.status === 200 && st.exited === null) {
        healthy = true;
        break;
      }
      // Serving, yet not healthy: a real PocketBase answers 200 whenever it serves; a few seconds are enough.
      if (res) sickSince ||= Date.now();
      if (sickSince && Date.now() - sickSince > SICK_MS) {
        st.reason = `listening, but /api/health answered ${res?.status ?? 'nothing'} for ${SICK_MS / 1000}s`;
        break;
      }
    }
    await sleep(100);
  }
  const reason = healthy ? '' : (st.reason ?? st.exited ?? `not healthy within ${TRIAL_BOOT_MS / 1000}s`);
  if (st.exited === null) {
    child.kill('SIGTERM');
    // Unref: a pending timer would hold this process (and the deployment) for its whole 10 s.
    await Promise.race([gone, sleep(10_000, undefined, { ref: false })]);
    if (st.exited === null) child.kill('SIGKILL');
    await gone;
  }
  await sleep(50); // the last buffered lines
  return { healthy, reason, output: lines.slice(-KEEP_LINES) };
}
