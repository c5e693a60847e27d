import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { Apps } from '../../core/apps.js';
import { NO_CONTROL, appNameSchema } from '../../core/app-rules.js';
import type { EventBus } from '../../core/events.js';
import type { Journal } from '../../host/journal.js';
import type { LogStreams } from '../../core/log-streams.js';
import { authorize, type ApiEnv } from '../context.js';
import { commonErrors, errors } from '../schemas.js';

// journalctl's own time syntax, restricted to what cannot be read as an option.
const when = z
  .string()
  .max(40)
  .regex(
    /^(\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?|-?\d{1,6}\s?(s|sec|min|m|h|d|days?|weeks?)( ago)?|now|today|yesterday)$/,
    'must be YYYY-MM-DD[ HH:MM[:SS]], -10min, 2h ago, today, yesterday or now',
  );
const LogEntry = z
  .object({
    timestamp: z.string(),
    priority: z.number().int(),
    level: z.enum(['debug', 'info', 'warn', 'error', 'fatal']),
    message: z.string(),
    pid: z.number().int().nullable(),
  })
  .openapi('LogEntry');

const logsRoute = createRoute({
  method: 'get',
  path: '/api/apps/{name}/logs',
  tags: ['observe'],
  summary: 'Journal entries of the app, newest last; follow=1 streams new ones as Server-Sent Events',
  request: {
    params: z.object({ name: appNameSchema }),
    query: z
      .object({
        lines: z.coerce.number().int().min(1).max(10_000).default(100),
        since: when.optional(),
        until: when.optional(),
        priority: z.coerce.number().int().min(0).max(7).optional(),
        q: z.string().min(1).max(200).regex(NO_CONTROL, 'must not contain control characters').optional(),
        follow: z.enum(['0', '1', 'true', 'false']).optional(),
      })
      .strict(),
  },
  responses: {
    200: {
      content: {
        'application/json': { schema: z.object({ entries: z.array(LogEntry) }) },
        'text/event-stream': { schema: z.string() },
      },
      description: 'Entries, or a stream of them',
    },
    ...commonErrors,
    ...errors(404, 429),
  },
});

const eventsRoute = createRoute({
  method: 'get',
  path: '/api/events',
  tags: ['observe'],
  summary: 'Live events (SSE): app state, deployment steps; Last-Event-ID replays what a client missed',
  request: { query: z.object({ app: appNameSchema.optional() }).strict() },
  responses: {
    200: { content: { 'text/event-stream': { schema: z.string() } }, description: 'A stream of events' },
    ...commonErrors,
  },
});

/** Queued events a client may fall behind by before it is dropped. */
const MAX_BEHIND = 500;

export function registerObserveRoutes(
  app: OpenAPIHono<ApiEnv>,
  deps: { apps: Apps; journal: Journal; events: EventBus; logStreams: LogStreams },
) {
  app.openapi(logsRoute, async (c) => {
    const { name } = c.req.valid('param');
    const p = authorize(c, { kind: 'app', app: name, level: 'read' });
    const unit = await deps.apps.unitOf(name);
    const q = c.req.valid('query');
    const filter = { lines: q.lines, since: q.since, until: q.until, priority: q.priority, q: q.q };
    if (q.follow !== '1' && q.follow !== 'true') return c.json({ entries: await deps.journal.read(unit, filter) }, 200);
    // Taken before the answer starts, so a refusal is a plain 429 rather than a stream that ends.
    const queue: string[] = [];
    let wake: (() => void) | null = null;
    let ended = false;
    const needle = q.q?.toLowerCase();
    const live = deps.logStreams.open(
      unit,
      p.tokenId,
      (e) => {
        if (needle && !e.message.toLowerCase().includes(needle)) return;
        if (q.priority !== undefined && e.priority > q.priority) return;
        queue.push(JSON.stringify(e));
        // A client that does not read is dropped rather than buffered without bound.
        if (queue.length > MAX_BEHIND) ended = true;
        wake?.();
      },
      () => {
        ended = true;
        wake?.();
      },
    );
    return streamSSE(c, async (stream) => {
      stream.onAbort(() => {
        ended = true;
        wake?.();
      });
      try {
        for (const e of await deps.journal.read(unit, filter))
          await stream.writeSSE({ event: 'log', data: JSON.stringify(e) });
        while (!ended) {
          const next = queue.shift();
          if (next !== undefined) {
            await stream.writeSSE({ event: 'log', data: next });
            continue;
          }
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, 15_000);
          });
          wake = null;
          if (queue.length === 0 && !ended) await stream.writeSSE({ event: 'ping', data: '{}' });
        }
      } finally {
        live.close();
      }
    });
  });

  app.openapi(eventsRoute, (c) => {
    authorize(
      c,
      c.req.valid('query').app ? { kind: 'app', app: c.req.valid('query').app!, level: 'read' } : { kind: 'admin' },
    );
    const only = c.req.valid('query').app;
    const lastId = Number(c.req.header('last-event-id') ?? 'NaN');
    return streamSSE(c, async (stream) => {
      const queue: Array<{ id: number; type: string; data: string }> = [];
      let wake: (() => void) | null = null;
      let closed = false;
      const push = (e: { id: number; type: string; app: string | null }, data: unknown) => {
        if (only && e.app !== only) return;
        queue.push({ id: e.id, type: e.type, data: JSON.stringify(data) });
        // A client that does not keep up is dropped rather than growing memory.
        if (queue.length > MAX_BEHIND) {
          closed = true;
          queue.length = 0;
        }
        wake?.();
      };
      if (Number.isInteger(lastId)) for (const e of deps.events.since(lastId)) push(e, e);
      const unsubscribe = deps.events.subscribe((e) => push(e, e));
      stream.onAbort(() => {
        closed = true;
        wake?.();
      });
      try {
        await stream.writeSSE({ event: 'ready', data: '{}' });
        while (!closed) {
          const next = queue.shift();
          if (next) {
            await stream.writeSSE({ id: String(next.id), event: next.type, data: next.data });
            continue;
          }
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, 15_000);
          });
          wake = null;
          if (queue.length === 0 && !closed) await stream.writeSSE({ event: 'ping', data: '{}' });
        }
      } finally {
        unsubscribe();
      }
    });
  });
}
