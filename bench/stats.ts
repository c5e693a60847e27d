import type { PocketdHost } from '../test/support/host.js';

/** Percentile of a sample (nearest rank). */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

export const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/** Times `n` creates (each through to healthy) on a host whose release is already installed. */
export async function timeCreates(h: PocketdHost, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await h.api('POST', '/api/apps', { name: `timed-${i}`, domains: [`timed-${i}.test`] });
    const d = await h.waitDeployment(r.body.deployment_id);
    if (d.status !== 'success') throw new Error(JSON.stringify(d));
    out.push(performance.now() - t0);
  }
  return out;
}
