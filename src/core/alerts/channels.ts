import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Database } from '../../db/database.js';
import type { AlertChannelsTable } from '../../db/schema.js';
import { PocketdError, invalid } from '../../shared/errors.js';
import type { ChannelTarget } from '../../host/notify.js';
import { nowIso } from '../clock.js';

/**
 * Alert channels: where messages go. What may be shown (kind, a URL cut to its
 * origin, SMTP host and addresses) is kept apart from what is never shown (a
 * URL with its token, the webhook's HMAC secret, the SMTP password), which no
 * answer carries; a generated webhook secret is shown once, at creation.
 */
const MASK = '********';
const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2048)
  .refine(
    (u) => !new URL(u).username && !new URL(u).password,
    "must not carry a user or password (use the channel's secret fields)",
  );
const channelName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/, 'letters, digits, space, dot, _ and -, at most 64');
const host = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/, 'a host name or address');

/** What can alert (the rules' kinds). */
export const ALERT_KINDS = [
  'app_down',
  'deployment_failed',
  'backup_failed',
  'disk_low',
  'host_check',
  'certificate',
  'replica',
  'app_crashed',
  'crash_loop',
] as const;
export const alertKindsSchema = z
  .array(z.enum([...ALERT_KINDS, '*']))
  .min(1)
  .max(ALERT_KINDS.length + 1);
/** With `alert_on`, the channel gets a rule for every app at once: one request sets up alerts. */
const alertOn = alertKindsSchema
  .optional()
  .describe('Also add a rule sending these kinds ("*": all) for every app to it');

export const createChannelSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('webhook'),
      name: channelName,
      alert_on: alertOn,
      url: httpUrl,
      secret: z
        .string()
        .min(16)
        .max(256)
        .optional()
        .describe('HMAC-SHA256 key; generated (and shown once) when left out'),
    })
    .strict(),
  z.object({ kind: z.literal('slack'), name: channelName, alert_on: alertOn, url: httpUrl }).strict(),
  z.object({ kind: z.literal('discord'), name: channelName, alert_on: alertOn, url: httpUrl }).strict(),
  z
    .object({
      kind: z.literal('ntfy'),
      name: channelName,
      alert_on: alertOn,
      url: httpUrl.describe("The topic's URL, e.g. https://ntfy.sh/my-topic"),
      token: z.string().min(1).max(256).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('email'),
      name: channelName,
      alert_on: alertOn,
      host,
      port: z.number().int().min(1).max(65535).default(587),
      secure: z.boolean().default(false),
      user: z.string().min(1).max(256).optional(),
      password: z.string().min(1).max(256).optional(),
      from: z.email().max(254),
      to: z.array(z.email().max(254)).min(1).max(20),
    })
    .strict(),
]);
export type CreateChannel = z.infer<typeof createChannelSchema>;

export interface ChannelView {
  id: number;
  name: string;
  kind: AlertChannelsTable['kind'];
  /** Where it goes, secrets masked. */
  target: string;
  created_at: string;
}

/** A URL with everything after its origin masked: slack, discord and ntfy URLs are themselves the secret. */
const masked = (u: string): string => {
  const url = new URL(u);
  return url.pathname === '/' && !url.search ? url.origin : `${url.origin}/${MASK}`;
};

export function createChannels(db: Database) {
  const view = (r: {
    id: number;
    name: string;
    kind: AlertChannelsTable['kind'];
    settings: string;
    created_at: string;
  }): ChannelView => {
    const s = JSON.parse(r.settings) as { shown: string };
    return { id: r.id, name: r.name, kind: r.kind, target: s.shown, created_at: r.created_at };
  };

  async function create(input: CreateChannel): Promise<{ channel: ChannelView; secret?: string }> {
    if (await db.selectFrom('alert_channels').select('id').where('name', '=', input.name).executeTakeFirst()) {
      throw invalid([{ field: 'name', code: 'NAME_TAKEN', message: `a channel named ${input.name} exists` }]);
    }
    let shown: string;
    let secrets: Record<string, unknown>;
    let generated: string | undefined;
    let settings: Record<string, unknown> = {};
    if (input.kind === 'email') {
      shown = `${input.to.join(', ')} via ${input.host}:${input.port}`;
      settings = {
        host: input.host,
        port: input.port,
        secure: input.secure,
        user: input.user ?? null,
        from: input.from,
        to: input.to,
      };
      secrets = { password: input.password ?? null };
    } else {
      shown = masked(input.url);
      secrets = { url: input.url };
      if (input.kind === 'webhook') {
        generated = input.secret ? undefined : randomBytes(32).toString('base64url');
        secrets.secret = input.secret ?? generated;
      }
      if (input.kind === 'ntfy') secrets.token = input.token ?? null;
    }
    const row = await db
      .insertInto('alert_channels')
      .values({
        name: input.name,
        kind: input.kind,
        settings: JSON.stringify({ shown, ...settings }),
        secrets: JSON.stringify(secrets),
        created_at: nowIso(),
      })
      .returning(['id', 'name', 'kind', 'settings', 'created_at'])
      .executeTakeFirstOrThrow();
    return { channel: view(row), ...(generated ? { secret: generated } : {}) };
  }

  return {
    create,
    async list(): Promise<ChannelView[]> {
      return (
        await db
          .selectFrom('alert_channels')
          .select(['id', 'name', 'kind', 'settings', 'created_at'])
          .orderBy('id')
          .execute()
      ).map(view);
    },
    async get(id: number): Promise<ChannelView> {
      const r = await db
        .selectFrom('alert_channels')
        .select(['id', 'name', 'kind', 'settings', 'created_at'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!r) throw new PocketdError('NOT_FOUND', `no channel ${id}`);
      return view(r);
    },
    async remove(id: number): Promise<void> {
      const r = await db.deleteFrom('alert_channels').where('id', '=', id).executeTakeFirst();
      if (Number(r.numDeletedRows) !== 1) throw new PocketdError('NOT_FOUND', `no channel ${id}`);
    },
    /** What a sender needs, secrets included: for the outbox only, never for an answer. */
    async target(id: number): Promise<ChannelTarget | null> {
      const r = await db.selectFrom('alert_channels').selectAll().where('id', '=', id).executeTakeFirst();
      if (!r) return null;
      const s = JSON.parse(r.settings) as Record<string, unknown>;
      const x = JSON.parse(r.secrets) as Record<string, unknown>;
      switch (r.kind) {
        case 'webhook':
          return { kind: 'webhook', url: String(x.url), secret: String(x.secret) };
        case 'slack':
        case 'discord':
          return { kind: r.kind, url: String(x.url) };
        case 'ntfy':
          return { kind: 'ntfy', url: String(x.url), token: typeof x.token === 'string' ? x.token : null };
        case 'email':
          return {
            kind: 'email',
            host: String(s.host),
            port: Number(s.port),
            secure: s.secure === true,
            user: typeof s.user === 'string' ? s.user : null,
            password: typeof x.password === 'string' ? x.password : null,
            from: String(s.from),
            to: s.to as string[],
          };
      }
    },
  };
}

export type Channels = ReturnType<typeof createChannels>;
