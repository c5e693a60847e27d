#!/usr/bin/env node
// Runs the compiled test files: each file is one `node --test` process, and the
// files are spread over lanes that run side by side (POCKETD_TEST_LANES, 3 by
// default as root, 1 otherwise). As root each file gets a network namespace of
// its own (`unshare -n`, loopback up), so the sandboxes of two lanes never answer
// each other's ports; a sandbox already has its own PID, mount and cgroup
// namespaces (test/support/sandbox.ts). The longest files start first, by the
// durations last measured (test/durations.json, then dist/test/durations.json).
// A file's output is printed whole when it ends, a failing file's again at the end.
import { readdirSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
// `--lint` runs `npm run lint` as one more job beside the test files (npm test does).
const lint = process.argv.includes('--lint');
const only = process.argv.slice(2).filter((a) => a !== '--lint');
const files = [];
for (const dir of ['unit', 'integration']) {
  const abs = path.join(root, 'dist', 'test', dir);
  if (!existsSync(abs)) continue;
  for (const f of readdirSync(abs).sort()) {
    if (!f.endsWith('.test.js')) continue;
    // An argument names a file (part of its name) or a whole directory (`unit`, `integration`).
    if (only.length && !only.some((o) => o === dir || f.includes(o))) continue;
    files.push(`${dir}/${f}`);
  }
}
if (files.length === 0) {
  console.error('no test files found; run npm run build first');
  process.exit(1);
}

const isRoot = process.getuid?.() === 0 && process.platform === 'linux' && existsSync('/usr/bin/unshare');
const lanes = Math.max(1, Math.min(Number(process.env.POCKETD_TEST_LANES) || (isRoot ? 3 : 1), files.length + 1));

// Seconds each file took when last measured; an unknown file counts as long, so it starts early.
const measured = path.join(root, 'dist', 'test', 'durations.json');
const durations = {};
for (const f of [path.join(root, 'test', 'durations.json'), measured]) {
  try {
    Object.assign(durations, JSON.parse(readFileSync(f, 'utf8')));
  } catch {
    /* none yet */
  }
}
const expected = (f) => durations[f] ?? (f.startsWith('unit/') ? 5 : 60);
const queue = [...files, ...(lint ? ['lint'] : [])].sort((a, b) => expected(b) - expected(a) || a.localeCompare(b));

const queue0 = queue.length;
const children = new Set();
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    // Each test process takes its sandboxes down on the signal (test/support/sandbox.ts).
    for (const c of children) c.kill(sig);
    process.exitCode = 130;
  });
}

const secs = (ms) => (ms / 1000).toFixed(1);
const results = [];
const started = Date.now();

function runFile(file, lane) {
  const argv = [process.execPath, '--test', '--test-reporter=spec', path.join(root, 'dist', 'test', file)];
  const [cmd, ...args] =
    file === 'lint'
      ? ['npm', 'run', 'lint', '--silent']
      : isRoot
        ? ['/usr/bin/unshare', '-n', '/bin/sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...argv]
        : argv;
  console.log(`▶ [lane ${lane}] ${file}`);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => out.push(d));
    child.on('close', (code, signal) => {
      children.delete(child);
      const ms = Date.now() - t0;
      const ok = code === 0;
      const text = Buffer.concat(out).toString().trimEnd();
      const status = ok ? 'ok' : `FAILED (${signal ?? `exit ${code}`})`;
      console.log(`── [lane ${lane}] ${file}: ${status} in ${secs(ms)} s ──\n${text}\n`);
      const result = { file, lane, ms, ok, text };
      results.push(result);
      resolve(result);
    });
    child.on('error', (err) => out.push(Buffer.from(`could not start: ${err.message}\n`)));
  });
}

// An integration file that fails runs once more, at the end of the queue, in a new sandbox and network
// namespace (POCKETD_TEST_RETRIES, 1 by default; 0 turns it off). Real systemd, Caddy and PocketBase on a
// loaded 2-core machine can lose a race a test did not foresee: the file then counts as passed but is
// reported as flaky, with the whole output of the failed run, so the race is seen and fixed, not hidden.
// A file that fails twice fails the run; unit files and lint are never run again.
const retries = Number(process.env.POCKETD_TEST_RETRIES ?? 1);
const tries = new Map();
async function lane(n) {
  for (let file = queue.shift(); file && !process.exitCode; file = queue.shift()) {
    const last = await runFile(file, n);
    tries.set(file, (tries.get(file) ?? 0) + 1);
    if (!last.ok && file.startsWith('integration/') && tries.get(file) <= retries) {
      last.retried = true;
      console.log(`↻ ${file} failed; it runs once more at the end of the queue`);
      queue.push(file);
    }
  }
}

console.log(
  `${files.length} test files${lint ? ' and lint' : ''} in ${lanes} lane(s)` +
    `${isRoot ? ', each file in a network namespace of its own' : ''}\n`,
);
await Promise.all(Array.from({ length: lanes }, (_, i) => lane(i + 1)));

const wall = Date.now() - started;
const failed = results.filter((r) => !r.ok && !r.retried);
const flaky = results.filter((r) => r.retried && results.some((o) => o.file === r.file && o.ok));
for (const r of flaky)
  console.log(`════ FLAKY: ${r.file} failed (lane ${r.lane}), then passed; the failed run's whole output ════\n${r.text}\n`);
for (const r of failed) console.log(`════ FAILED: ${r.file} (lane ${r.lane}), its whole output ════\n${r.text}\n`);
console.log('per file (s):');
for (const r of [...results].sort((a, b) => b.ms - a.ms))
  console.log(
    `  ${secs(r.ms).padStart(7)}  ${r.ok ? 'ok    ' : r.retried ? 'RETRY ' : 'FAILED'}  lane ${r.lane}  ${r.file}`,
  );
const sum = results.reduce((s, r) => s + r.ms, 0);
const jobs = results.filter((r) => !r.retried).length;
console.log(
  `\n${jobs - failed.length} of ${jobs} jobs passed; sum of per-file times ${secs(sum)} s, ` +
    `wall time ${secs(wall)} s with ${lanes} lane(s) (x${(sum / wall).toFixed(2)})`,
);
if (flaky.length) console.log(`flaky (failed once, passed on the second run): ${flaky.map((r) => r.file).join(', ')}`);
if (failed.length) console.log(`failed: ${failed.map((r) => r.file).join(', ')}`);

// What this run measured, for the next run's order.
const next = { ...durations };
for (const r of results) if (r.ok || !r.retried) next[r.file] = Math.round(r.ms / 100) / 10;
try {
  writeFileSync(measured, `${JSON.stringify(next, null, 2)}\n`);
} catch {
  /* a read-only tree still runs */
}
process.exit(failed.length || jobs < queue0 || process.exitCode ? 1 : 0);
