import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { UpgradeNotesService } from '../../core/changes/upgrade-notes.js';
import { authorize, type ApiEnv } from '../context.js';
import { commonErrors, errors, json } from '../../contract/common.js';
import { NameParam } from '../../contract/deploy.js';
import { UpgradeNotes, UpgradeNotesQuery } from '../../contract/upgrade-notes.js';

const notesRoute = createRoute({
  method: 'get',
  path: '/api/apps/{name}/upgrade-notes',
  tags: ['deploy'],
  summary: "Release notes between the app's PocketBase and another, with each breaking release crossed",
  request: { params: NameParam, query: UpgradeNotesQuery },
  responses: { 200: json(UpgradeNotes, 'The notes'), ...commonErrors, ...errors(404, 502) },
});

export function registerUpgradeNotesRoutes(app: OpenAPIHono<ApiEnv>, deps: { notes: UpgradeNotesService }) {
  app.openapi(notesRoute, async (c) => {
    const { name } = c.req.valid('param');
    authorize(c, { kind: 'app', app: name, level: 'read' });
    return c.json(await deps.notes.between(name, c.req.valid('query').to), 200);
  });
}
