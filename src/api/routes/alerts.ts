import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { createRuleSchema, type Alerts } from '../../core/alerts/alerts.js';
import { createChannelSchema, type Channels } from '../../core/alerts/channels.js';
import { authorize, type ApiEnv } from '../context.js';
import { commonErrors, errors, json, jsonBody } from '../../contract/common.js';
import { Channel, Rule, Incident, OutboxEntry, IdParam, Limit } from '../../contract/alerts.js';

const routes = {
  listChannels: createRoute({
    method: 'get',
    path: '/api/alerts/channels',
    tags: ['alerts'],
    summary: 'Alert channels, secrets masked',
    responses: { 200: json(z.object({ channels: z.array(Channel) }), 'Channels'), ...commonErrors },
  }),
  createChannel: createRoute({
    method: 'post',
    path: '/api/alerts/channels',
    tags: ['alerts'],
    summary: 'Add a channel: webhook (signed), slack, discord, ntfy or email',
    request: jsonBody(createChannelSchema),
    responses: {
      201: json(
        z.object({
          channel: Channel,
          secret: z.string().optional().describe('A generated webhook secret; shown only now'),
        }),
        'Added',
      ),
      ...commonErrors,
    },
  }),
  deleteChannel: createRoute({
    method: 'delete',
    path: '/api/alerts/channels/{id}',
    tags: ['alerts'],
    summary: 'Remove a channel, its rules and its messages',
    request: { params: IdParam },
    responses: { 204: { description: 'Removed' }, ...commonErrors, ...errors(404) },
  }),
  testChannel: createRoute({
    method: 'post',
    path: '/api/alerts/channels/{id}/test',
    tags: ['alerts'],
    summary: 'Send a test message now',
    request: { params: IdParam },
    responses: {
      200: json(
        z.object({ outbox_id: z.number().int(), status: z.enum(['sent', 'failed']), error: z.string().nullable() }),
        'What happened',
      ),
      ...commonErrors,
      ...errors(404),
    },
  }),
  listRules: createRoute({
    method: 'get',
    path: '/api/alerts/rules',
    tags: ['alerts'],
    summary: 'Which incidents go to which channels',
    responses: { 200: json(z.object({ rules: z.array(Rule) }), 'Rules'), ...commonErrors },
  }),
  createRule: createRoute({
    method: 'post',
    path: '/api/alerts/rules',
    tags: ['alerts'],
    summary: 'Send these kinds of incident, for one app or all, to a channel',
    request: jsonBody(createRuleSchema),
    responses: { 201: json(Rule, 'Added'), ...commonErrors, ...errors(404) },
  }),
  deleteRule: createRoute({
    method: 'delete',
    path: '/api/alerts/rules/{id}',
    tags: ['alerts'],
    summary: 'Remove a rule',
    request: { params: IdParam },
    responses: { 204: { description: 'Removed' }, ...commonErrors, ...errors(404) },
  }),
  listIncidents: createRoute({
    method: 'get',
    path: '/api/alerts/incidents',
    tags: ['alerts'],
    summary: 'Incidents, newest first',
    request: { query: Limit.extend({ open: z.enum(['true', 'false']).optional() }).strict() },
    responses: { 200: json(z.object({ incidents: z.array(Incident) }), 'Incidents'), ...commonErrors },
  }),
  listOutbox: createRoute({
    method: 'get',
    path: '/api/alerts/outbox',
    tags: ['alerts'],
    summary: 'Messages: sent, pending (with the next try) or failed (with the reason)',
    request: { query: Limit },
    responses: { 200: json(z.object({ messages: z.array(OutboxEntry) }), 'Messages'), ...commonErrors },
  }),
};

export function registerAlertRoutes(app: OpenAPIHono<ApiEnv>, deps: { alerts: Alerts; channels: Channels }) {
  const admin = (c: Parameters<typeof authorize>[0]) => authorize(c, { kind: 'admin' });
  app.openapi(routes.listChannels, async (c) => {
    admin(c);
    return c.json({ channels: await deps.channels.list() }, 200);
  });
  app.openapi(routes.createChannel, async (c) => {
    admin(c);
    const body = c.req.valid('json');
    const made = await deps.channels.create(body);
    if (body.alert_on) await deps.alerts.addRule({ kinds: body.alert_on, app: null, channel_id: made.channel.id });
    return c.json(made, 201);
  });
  app.openapi(routes.deleteChannel, async (c) => {
    admin(c);
    await deps.channels.remove(c.req.valid('param').id);
    return c.body(null, 204);
  });
  app.openapi(routes.testChannel, async (c) => {
    admin(c);
    return c.json(await deps.alerts.test(c.req.valid('param').id), 200);
  });
  app.openapi(routes.listRules, async (c) => {
    admin(c);
    return c.json({ rules: await deps.alerts.rules() }, 200);
  });
  app.openapi(routes.createRule, async (c) => {
    admin(c);
    return c.json(await deps.alerts.addRule(c.req.valid('json')), 201);
  });
  app.openapi(routes.deleteRule, async (c) => {
    admin(c);
    await deps.alerts.removeRule(c.req.valid('param').id);
    return c.body(null, 204);
  });
  app.openapi(routes.listIncidents, async (c) => {
    admin(c);
    const q = c.req.valid('query');
    return c.json(
      { incidents: await deps.alerts.incidents(q.open === undefined ? undefined : q.open === 'true', q.limit) },
      200,
    );
  });
  app.openapi(routes.listOutbox, async (c) => {
    admin(c);
    return c.json({ messages: await deps.alerts.outbox(c.req.valid('query').limit) }, 200);
  });
}
