import type { ReplicaStatusReport, ReplicaStatusesSpec } from '../shared/replica-rules.js';
import type { HelperContext } from './context.js';
import { replicaGenerations, replicaUnit } from './replica.js';

/** Bounds of one answer: Litestream's table of an app (it lists one line a generation), an error, a journal read. */
const TABLE_MAX = 64 * 1024;
const ERROR_MAX = 1000;
const JOURNAL_LINES = 5000;
/** Two listings at a time: each is a transient unit and a Litestream process; the host has other work. */
const AT_ONCE = 2;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, ERROR_MAX);

/**
 * replica-statuses: the status watch's round in one helper call instead of one
 * a replica: for each named app, what its target holds of its data.db (the
 * same listing as replica-generations, from the replica's sandbox), and the
 * last error its Litestream logged lately: Litestream does not exit on a sync
 * error, it retries each second, so a replica that cannot write shows here
 * instead of as a silent "no generation yet". An app without a replica is
 * answered with an error, never a failure of the whole call.
 */
export async function replicaStatuses(ctx: HelperContext, spec: ReplicaStatusesSpec): Promise<string> {
  const reports = new Map<string, ReplicaStatusReport>();
  const queue = [...spec.names];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      try {
        const table = await replicaGenerations(ctx, name);
        reports.set(name, { name, generations: table.slice(0, TABLE_MAX), error: null, logged_error: null });
      } catch (err) {
        reports.set(name, { name, generations: null, error: message(err), logged_error: null });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, spec.names.length) }, worker));
  const logged = await loggedErrors(ctx, spec.names);
  return JSON.stringify(spec.names.map((n) => ({ ...reports.get(n)!, logged_error: logged.get(n) ?? null })));
}

/** One journal read for every unit: the last `level=ERROR` line of each in the last two minutes. */
async function loggedErrors(ctx: HelperContext, names: string[]): Promise<Map<string, string>> {
  const byUnit = new Map(names.map((n) => [replicaUnit(n), n]));
  const out = new Map<string, string>();
  let text: string;
  try {
    text = await ctx.run(69, 'journalctl', [
      '--no-pager',
      '--quiet',
      '-o',
      'json',
      '--output-fields=_SYSTEMD_UNIT,MESSAGE',
      '--since=-120s',
      '-n',
      String(JOURNAL_LINES),
      ...[...byUnit.keys()].flatMap((u) => ['-u', u]),
    ]);
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('level=ERROR')) continue;
    try {
      const e = JSON.parse(line) as { _SYSTEMD_UNIT?: unknown; MESSAGE?: unknown };
      const name = typeof e._SYSTEMD_UNIT === 'string' ? byUnit.get(e._SYSTEMD_UNIT) : undefined;
      if (!name || typeof e.MESSAGE !== 'string') continue;
      const m = /msg="([^"]*)".*?error="([^"]*)"/.exec(e.MESSAGE);
      out.set(name, (m ? `${m[1]}: ${m[2]}` : e.MESSAGE).slice(0, ERROR_MAX));
    } catch {
      /* a line journalctl cut: skipped */
    }
  }
  return out;
}
