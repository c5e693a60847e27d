import { z } from 'zod';
import type { Privileged } from '../../host/privileged.js';
import { parseGenerations } from '../../shared/replica-config.js';
import { compareStrings } from '../../shared/order.js';
import type { ReplicaStatusReport } from '../../shared/replica-rules.js';

const reportSchema = z.array(
  z.object({
    name: z.string(),
    generations: z.string().nullable(),
    error: z.string().nullable(),
    logged_error: z.string().nullable(),
  }),
);

/** The one message of a helper failure worth showing: its last words, no longer than a line or three. */
const said = (err: unknown) => (err as Error).message.slice(0, 1000);

/**
 * What the targets hold of these apps' data.db, in one helper call
 * (replica-statuses). A failure of the call is every app's error.
 */
export async function askStatuses(privileged: Privileged, names: string[]): Promise<Map<string, ReplicaStatusReport>> {
  const out = new Map<string, ReplicaStatusReport>();
  try {
    const text = await privileged.run('replica-statuses', [], {
      spec: { names },
      // Each listing is a transient unit and a Litestream process, two at a time.
      timeoutMs: 60_000 + names.length * 30_000,
    });
    for (const r of reportSchema.parse(JSON.parse(text))) if (names.includes(r.name)) out.set(r.name, r);
  } catch (err) {
    for (const name of names) out.set(name, { name, generations: null, error: said(err), logged_error: null });
  }
  return out;
}

/** The columns of a replica's status from its report (none: the helper did not answer for it). */
export function statusUpdate(at: string, r: ReplicaStatusReport | undefined): Record<string, string | number | null> {
  if (!r) return { checked_at: at, error: 'the helper did not answer for this replica' };
  if (r.generations === null) return { checked_at: at, error: r.error ?? 'no answer' };
  const gens = parseGenerations(r.generations);
  const latest = [...gens].sort((x, y) => compareStrings(x.end, y.end)).at(-1) ?? null;
  // Litestream retries a failing sync each second without exiting: what it logged says why nothing arrives.
  const none = r.logged_error
    ? `the target holds no generation of data.db yet; Litestream says: ${r.logged_error}`
    : 'the target holds no generation of data.db yet';
  return {
    checked_at: at,
    generations: gens.length,
    generation: latest?.generation ?? null,
    last_sync_at: latest?.end ?? null,
    lag_seconds: latest?.lag_seconds ?? null,
    error: latest ? null : none,
  };
}
