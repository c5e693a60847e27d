// Requests per second and p50/p99 latency of GET /api/health and an authenticated
// GET /api/auth/me on a real pocketd process, under concurrent load from this
// (second) process with autocannon. Baseline in the same run: a bare node:http
// server answering the same health JSON, so the ratio shows what the stack costs.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { freePort } from '../test/support/sandbox.js';
import { tempDir } from '../test/support/tmp.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);

async function load(url: string, headers: Record<string, string> = {}) {
  const r = await autocannon({ url, connections: 50, duration: DURATION, headers });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

const { dir, cleanup } = tempDir('pocketd-bench-');
const port = await freePort();
const env = { ...process.env, POCKETD_DATA_DIR: dir, POCKETD_LISTEN: `127.0.0.1:${port}`, POCKETD_LOG_LEVEL: 'warn' };
// The daemon runs with the V8 flags of its unit (deploy/pocketd.service), as it does in production.
// BENCH_DAEMON_FLAGS replaces them, to compare.
const unitFlags = (
  process.env.BENCH_DAEMON_FLAGS ??
  /^ExecStart=\S+ (.*?) @INSTALL_DIR@/m.exec(readFileSync(path.join(root, 'deploy', 'pocketd.service'), 'utf8'))?.[1] ??
  ''
)
  .split(' ')
  .filter(Boolean);
console.log(`daemon's node flags (from deploy/pocketd.service): ${unitFlags.join(' ')}`);
const daemon = spawn(process.execPath, [...unitFlags, path.join(root, 'bin', 'pocketd.js'), 'serve'], {
  env,
  stdio: 'ignore',
});
const bare = http.createServer((_q, s) => {
  s.setHeader('content-type', 'application/json');
  s.end(JSON.stringify({ status: 'ok', version: '0.1.0', uptime_seconds: 1 }));
});
const barePort = await freePort();
await new Promise<void>((r) => bare.listen(barePort, '127.0.0.1', r));
try {
  for (
    let i = 0;
    i < 100 &&
    !(await fetch(`http://127.0.0.1:${port}/api/health`).then(
      (r) => r.ok,
      () => false,
    ));
    i++
  )
    await sleep(100);
  const token = execFileSync(
    process.execPath,
    [path.join(root, 'bin', 'pocketd.js'), 'token', 'create', '--name', 'bench', '--scope', 'admin'],
    { env, stdio: ['ignore', 'pipe', 'ignore'] },
  )
    .toString()
    .trim();
  const base = await load(`http://127.0.0.1:${barePort}/api/health`);
  const health = await load(`http://127.0.0.1:${port}/api/health`);
  const me = await load(`http://127.0.0.1:${port}/api/auth/me`, { authorization: `Bearer ${token}` });
  const row = (name: string, r: typeof base) =>
    console.log(
      `${name.padEnd(28)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  errors ${r.errors}`,
    );
  console.log(`50 connections, ${DURATION} s each`);
  row('baseline bare node:http', base);
  row('GET /api/health', health);
  row('GET /api/auth/me (token)', me);
  console.log(
    `ratio health/baseline ${(health.rps / base.rps).toFixed(2)}, auth/me/baseline ${(me.rps / base.rps).toFixed(2)}`,
  );
  if (health.errors || me.errors) process.exitCode = 1;
} finally {
  daemon.kill('SIGTERM');
  bare.close();
  await new Promise((r) => daemon.once('exit', r));
  cleanup();
}
