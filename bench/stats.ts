import type { PocketdHost } from '../test/support/host.js';

/** Percentile of a sample (nearest rank). */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

export const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/** Each step's time of a deployment, and the wait before its first step, by name (ms). */
export type StepTimes = Record<string, number>;
interface DeploymentTimes {
  started_at: string | null;
  created_at: string;
  steps: { name: string; started_at: string | null; finished_at: string | null }[];
}
function stepTimes(d: DeploymentTimes): StepTimes {
  const ms = (a: string | null, b: string | null) => (a && b ? Date.parse(b) - Date.parse(a) : 0);
  const out: StepTimes = { queued: ms(d.created_at, d.steps[0]?.started_at ?? d.started_at) };
  for (const s of d.steps) out[s.name] = ms(s.started_at, s.finished_at);
  return out;
}

/** The median of each step over several deployments, as one line. */
export function stepMedians(runs: StepTimes[]): string {
  const names = Object.keys(runs[0] ?? {});
  return names
    .map(
      (n) =>
        `${n} ${percentile(
          runs.map((r) => r[n] ?? 0),
          50,
        ).toFixed(0)}`,
    )
    .join(', ');
}

/**
 * Times `n` creates (each through to healthy) on a host whose release is already installed; `steps`, when
 * given, receives each create's step times.
 */
export async function timeCreates(h: PocketdHost, n: number, tag = 'timed', steps?: StepTimes[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await h.api('POST', '/api/apps', { name: `${tag}-${i}`, domains: [`${tag}-${i}.test`] });
    const answered = performance.now() - t0;
    // Asked every 20 ms (the harness's wait asks every 100 ms, which would add up to that to the figure).
    let d = (await h.api('GET', `/api/deployments/${r.body.deployment_id}`)).body;
    for (let t = 0; ['queued', 'pending', 'running'].includes(d.status) && t < 3000; t++) {
      await new Promise((ok) => setTimeout(ok, 20));
      d = (await h.api('GET', `/api/deployments/${r.body.deployment_id}`)).body;
    }
    if (d.status !== 'success') throw new Error(JSON.stringify(d));
    out.push(performance.now() - t0);
    steps?.push({ request: answered, ...stepTimes(d) });
  }
  return out;
}
