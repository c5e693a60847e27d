import type { Database } from '../../db/database.js';
import { send, type Message } from '../../host/notify.js';
import type { Logger } from '../../shared/log.js';
import type { Channels } from './channels.js';
import { nowIso } from '../clock.js';

export interface OutboxOptions {
  ratePerMinute: number;
  timeoutMs: number;
  retryMax: number;
  retryMs: number;
}

/**
 * The alert outbox in SQLite: every message to every channel is a row, tried
 * in turn, again with a doubling wait, recorded as sent or failed with the
 * reason; a restart of pocketd picks up what is pending. One message per
 * channel is in flight at a time, and a channel sends at most `ratePerMinute`,
 * so a slow or dead channel holds up only itself.
 */
export function createOutbox(deps: { db: Database; channels: Channels; log: Logger }, opts: OutboxOptions) {
  const { db, log } = deps;
  const inFlight = new Set<number>();
  let wake: (() => void) | null = null;
  let timer: NodeJS.Timeout | undefined;

  async function enqueue(channelIds: number[], incidentId: number | null, m: Message): Promise<void> {
    if (channelIds.length === 0) return;
    const now = nowIso();
    await db
      .insertInto('alert_outbox')
      .values(
        channelIds.map((channel_id) => ({
          channel_id,
          incident_id: incidentId,
          event: m.event,
          payload: JSON.stringify(m),
          status: 'pending' as const,
          attempts: 0,
          next_at: now,
          created_at: now,
        })),
      )
      .execute();
    wake?.();
  }

  async function deliver(
    row: { id: number; channel_id: number; payload: string; attempts: number },
    retry = true,
  ): Promise<void> {
    const target = await deps.channels.target(row.channel_id);
    if (!target) return;
    const attempts = row.attempts + 1;
    try {
      await send(target, JSON.parse(row.payload) as Message, opts.timeoutMs);
      await db
        .updateTable('alert_outbox')
        .set({ status: 'sent', attempts, sent_at: nowIso(), last_error: null })
        .where('id', '=', row.id)
        .execute();
    } catch (err) {
      const reason = (err as Error).message.slice(0, 500);
      const last = !retry || attempts >= opts.retryMax;
      const next = new Date(Date.now() + Math.min(opts.retryMs * 2 ** (attempts - 1), 3_600_000)).toISOString();
      await db
        .updateTable('alert_outbox')
        .set({ status: last ? 'failed' : 'pending', attempts, last_error: reason, next_at: next })
        .where('id', '=', row.id)
        .execute();
      // The channel is named by id: its URL may be its secret.
      log.warn(
        { outbox: row.id, channel: row.channel_id, attempts, reason },
        last ? 'an alert could not be delivered; giving up' : 'an alert could not be delivered; trying again later',
      );
    }
  }

  async function tick(): Promise<void> {
    const now = nowIso();
    const due = await db
      .selectFrom('alert_outbox')
      .select(['id', 'channel_id', 'payload', 'attempts'])
      .where('status', '=', 'pending')
      .where('next_at', '<=', now)
      .orderBy('id')
      .limit(100)
      .execute();
    const minuteAgo = new Date(Date.now() - 60_000).toISOString();
    for (const row of due) {
      if (inFlight.has(row.channel_id)) continue;
      const sent = await db
        .selectFrom('alert_outbox')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('channel_id', '=', row.channel_id)
        .where('sent_at', '>=', minuteAgo)
        .executeTakeFirstOrThrow();
      if (Number(sent.n) >= opts.ratePerMinute) {
        await db
          .updateTable('alert_outbox')
          .set({ next_at: new Date(Date.now() + 10_000).toISOString() })
          .where('id', '=', row.id)
          .execute();
        continue;
      }
      inFlight.add(row.channel_id);
      void deliver(row)
        .catch((err: unknown) => log.error({ err, outbox: row.id }, 'alert delivery failed'))
        .finally(() => {
          inFlight.delete(row.channel_id);
          wake?.();
        });
    }
  }

  /** Sends a test message now and records it like any other. */
  async function test(
    channelId: number,
  ): Promise<{ outbox_id: number; status: 'sent' | 'failed'; error: string | null }> {
    await deps.channels.get(channelId);
    const at = nowIso();
    const m: Message = {
      event: 'test',
      kind: 'test',
      app: null,
      title: 'a test message from pocketd',
      detail: 'If you read this, the channel works.',
      incident_id: null,
      at,
    };
    const row = await db
      .insertInto('alert_outbox')
      .values({
        channel_id: channelId,
        incident_id: null,
        event: 'test',
        payload: JSON.stringify(m),
        status: 'pending',
        attempts: 0,
        next_at: '9999-12-31T00:00:00.000Z',
        created_at: at,
      })
      .returning(['id', 'channel_id', 'payload', 'attempts'])
      .executeTakeFirstOrThrow();
    await deliver(row, false);
    const done = await db
      .selectFrom('alert_outbox')
      .select(['status', 'last_error'])
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    return { outbox_id: row.id, status: done.status === 'sent' ? 'sent' : 'failed', error: done.last_error };
  }

  /** The newest messages, with their channel's name and their title. */
  async function list(limit: number) {
    return db
      .selectFrom('alert_outbox')
      .innerJoin('alert_channels', 'alert_channels.id', 'alert_outbox.channel_id')
      .select([
        'alert_outbox.id',
        'alert_outbox.channel_id',
        'alert_channels.name as channel',
        'alert_outbox.incident_id',
        'alert_outbox.event',
        'alert_outbox.status',
        'alert_outbox.attempts',
        'alert_outbox.next_at',
        'alert_outbox.last_error',
        'alert_outbox.created_at',
        'alert_outbox.sent_at',
        'alert_outbox.payload',
      ])
      .orderBy('alert_outbox.id', 'desc')
      .limit(limit)
      .execute()
      .then((rows) =>
        rows.map(({ payload, ...r }) => ({
          ...r,
          title: (JSON.parse(payload) as Message).title,
          next_at: r.status === 'pending' ? r.next_at : null,
        })),
      );
  }

  return {
    enqueue,
    test,
    list,
    /** Delivers what is due every second and at once when something is queued; `alsoEach` runs in the same loop. */
    start(alsoEach: () => Promise<void>) {
      let running = false;
      const loop = () => {
        if (running) return;
        running = true;
        void tick()
          .then(alsoEach)
          .catch((err: unknown) => log.error({ err }, 'the alert outbox failed'))
          .finally(() => {
            running = false;
          });
      };
      wake = () => setImmediate(loop);
      timer = setInterval(loop, 1000);
      timer.unref();
      loop();
    },
    stop() {
      clearInterval(timer);
      wake = null;
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
/** A message as `GET /api/alerts/outbox` lists it. */
export type OutboxMessage = Awaited<ReturnType<Outbox['list']>>[number];
