import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Alerts } from '../../core/alerts/alerts.js';
import { MUTE_MAX_MINUTES } from '../../core/alerts/incident-actions.js';
import { actorName, authorize, type ApiEnv } from '../context.js';
import { commonErrors, errors, json, jsonBody } from '../../contract/common.js';
import { Incident } from '../../contract/alerts.js';

const IdParam = z.object({ id: z.coerce.number().int().positive() });
const MuteBody = z
  .object({
    minutes: z
      .number()
      .int()
      .min(0)
      .max(MUTE_MAX_MINUTES)
      .describe(`How long no message is sent about it, at most ${MUTE_MAX_MINUTES} (a week); 0 ends a mute`),
  })
  .strict()
  .openapi('MuteIncident');

const acknowledge = createRoute({
  method: 'post',
  path: '/api/alerts/incidents/{id}/acknowledge',
  tags: ['alerts'],
  summary: 'Acknowledge an open incident: someone is on it, reminders stop (it still closes by itself)',
  request: { params: IdParam },
  responses: { 200: json(Incident, 'The incident'), ...commonErrors, ...errors(404, 409) },
});
const mute = createRoute({
  method: 'post',
  path: '/api/alerts/incidents/{id}/mute',
  tags: ['alerts'],
  summary:
    'Mute an incident for a while: no message about it, nor about the next incident of the same kind and app, until then',
  request: { params: IdParam, ...jsonBody(MuteBody) },
  responses: { 200: json(Incident, 'The incident'), ...commonErrors, ...errors(404) },
});

export function registerIncidentRoutes(app: OpenAPIHono<ApiEnv>, deps: { alerts: Alerts }) {
  app.openapi(acknowledge, async (c) => {
    const p = authorize(c, { kind: 'admin' });
    return c.json(await deps.alerts.acknowledge(c.req.valid('param').id, actorName(p)), 200);
  });
  app.openapi(mute, async (c) => {
    const p = authorize(c, { kind: 'admin' });
    return c.json(await deps.alerts.mute(c.req.valid('param').id, c.req.valid('json').minutes, actorName(p)), 200);
  });
}
