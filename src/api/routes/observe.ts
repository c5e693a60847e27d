import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { Apps } from '../../core/apps/apps.js';
import { NO_CONTROL, appNameSchema } from '../../core/apps/rules.js';
import type { EventBus } from '../../core/events.js';
import type { Journal } from '../../host/journal.js';
import type { LogStreams } from '../../core/observe/log-streams.js';
import { authorize, type ApiEnv } from '../context.js';
import { commonErrors, errors } from '../../contract/common.js';
import { createSseQueue } from '../sse-queue.js';
import { when, LogEntry } from '../../contract/logs.js';
import { prioritySchema } from '../query/log-priority.js';

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
        priority: prioritySchema.optional(),
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
    const sse = createSseQueue<string>(MAX_BEHIND);
    const needle = q.q?.toLowerCase();
    const live = deps.logStreams.open(
      unit,
      p.tokenId,
      (e) => {
        if (needle && !e.message.toLowerCase().includes(needle)) return;
        if (q.priority !== undefined && e.priority > q.priority) return;
        sse.push(JSON.stringify(e));
      },
      () => sse.end(),
    );
    return streamSSE(c, async (stream) => {
      stream.onAbort(() => sse.end());
      try {
        for (const e of await deps.journal.read(unit, filter))
          await stream.writeSSE({ event: 'log', data: JSON.stringify(e) });
        await sse.drain(stream, (data) => stream.writeSSE({ event: 'log', data }));
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
      // A client that does not keep up is dropped rather than growing memory.
      const sse = createSseQueue<{ id: number; type: string; data: string }>(MAX_BEHIND);
      const push = (e: { id: number; type: string; app: string | null }, data: unknown) => {
        if (only && e.app !== only) return;
        sse.push({ id: e.id, type: e.type, data: JSON.stringify(data) });
      };
      if (Number.isInteger(lastId)) for (const e of deps.events.since(lastId)) push(e, e);
      const unsubscribe = deps.events.subscribe((e) => push(e, e));
      stream.onAbort(() => sse.end());
      try {
        await stream.writeSSE({ event: 'ready', data: '{}' });
        await sse.drain(stream, (next) => stream.writeSSE({ id: String(next.id), event: next.type, data: next.data }));
      } finally {
        unsubscribe();
      }
    });
  });
}
