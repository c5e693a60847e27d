import { z } from '@hono/zod-openapi';

export const Channel = z.object({
  id: z.number().int(),
  name: z.string(),
  kind: z.enum(['webhook', 'slack', 'discord', 'ntfy', 'email']),
  target: z.string().describe('Where it goes; a URL that carries a token is shown as its origin only'),
  created_at: z.string(),
});
export const Rule = z.object({
  id: z.number().int(),
  kinds: z.array(z.string()),
  app: z.string().nullable(),
  channel_id: z.number().int(),
  created_at: z.string(),
});
export const Incident = z.object({
  id: z.number().int(),
  key: z.string(),
  kind: z.string(),
  app: z.string().nullable(),
  title: z.string(),
  detail: z.string().nullable(),
  opened_at: z.string(),
  closed_at: z.string().nullable(),
  reminded_at: z.string().nullable(),
  acknowledged_at: z.string().nullable(),
  acknowledged_by: z.string().nullable(),
  muted_until: z.string().nullable().describe('No message about it (nor its next of the same key) until then'),
});
export const OutboxEntry = z.object({
  id: z.number().int(),
  channel_id: z.number().int(),
  channel: z.string(),
  incident_id: z.number().int().nullable(),
  event: z.string(),
  title: z.string(),
  status: z.enum(['pending', 'sent', 'failed']),
  attempts: z.number().int(),
  next_at: z.string().nullable().describe('When it is tried again (pending only)'),
  last_error: z.string().nullable(),
  created_at: z.string(),
  sent_at: z.string().nullable(),
});
export const IdParam = z.object({ id: z.coerce.number().int().positive() });
export const Limit = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict();

export type ChannelView = z.infer<typeof Channel>;
export type AlertRule = z.infer<typeof Rule>;
export type OutboxMessage = z.infer<typeof OutboxEntry>;
export type IncidentRow = z.infer<typeof Incident>;
