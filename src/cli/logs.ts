import { z } from 'zod';
import { check, parse } from './args.js';
import { name } from './apps.js';
import type { Api } from './client.js';

interface Entry {
  timestamp: string;
  level: string;
  message: string;
}
const line = (e: Entry, json?: boolean) =>
  json ? JSON.stringify(e) : `${e.timestamp} ${e.level.padEnd(5)} ${e.message}`;

/** `pocketd logs <app> [-f]`: the app's journal (`--json`: one JSON object a line). */
export async function logs(api: Api, args: string[]): Promise<number> {
  const { values, pos } = parse(
    args,
    {
      follow: { type: 'boolean', short: 'f' },
      lines: { type: 'string', short: 'n' },
      since: { type: 'string' },
      priority: { type: 'string' },
      grep: { type: 'string' },
    },
    ['app'],
  );
  const q = new URLSearchParams();
  q.set('lines', String(check(z.coerce.number().int().min(1).max(10_000), values.lines ?? '100', '--lines')));
  if (values.since) q.set('since', values.since);
  if (values.priority)
    q.set('priority', String(check(z.coerce.number().int().min(0).max(7), values.priority, '--priority')));
  if (values.grep) q.set('q', values.grep);
  const path = `/api/apps/${name(pos.app)}/logs`;
  if (!values.follow) {
    const r = await api.call<{ entries: Entry[] }>('GET', `${path}?${q}`);
    for (const e of r.entries) process.stdout.write(`${line(e, values.json)}\n`);
    return 0;
  }
  q.set('follow', '1');
  await api.stream(`${path}?${q}`, (event, data) => {
    if (event === 'log') process.stdout.write(`${line(JSON.parse(data) as Entry, values.json)}\n`);
  });
  return 0;
}
