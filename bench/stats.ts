import type { PocketdHost } from '../test/support/host.js';

/** Percentile of a sample (nearest rank). */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

export const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/** Times `n` creates (each through to healthy) on a host whose release is already installed. */
export async function timeCreates(h: PocketdHost, n: number, tag = 'timed'): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await h.api('POST', '/api/apps', { name: `${tag}-${i}`, domains: [`${tag}-${i}.test`] });
    // Asked every 20 ms (the harness's wait asks every 100 ms, which would add up to that to the figure).
    let d = (await h.api('GET', `/api/deployments/${r.body.deployment_id}`)).body;
    for (let t = 0; ['queued', 'pending', 'running'].includes(d.status) && t < 3000; t++) {
      await new Promise((ok) => setTimeout(ok, 20));
      d = (await h.api('GET', `/api/deployments/${r.body.deployment_id}`)).body;
    }
    if (d.status !== 'success') throw new Error(JSON.stringify(d));
    out.push(performance.now() - t0);
  }
  return out;
}
