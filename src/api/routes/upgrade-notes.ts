import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { appNameSchema, versionSchema } from '../../core/app-rules.js';
import type { UpgradeNotesService } from '../../core/upgrade-notes.js';
import { authorize, type ApiEnv } from '../context.js';
import { commonErrors, errors, json } from '../schemas.js';

const Breaking = z
  .object({ version: z.string(), summary: z.string(), changes: z.array(z.string()) })
  .openapi('BreakingRelease');
const NotedRelease = z
  .object({
    version: z.string(),
    prerelease: z.boolean(),
    published_at: z.string().nullable(),
    notes: z.string().describe("The release's notes as the source wrote them (markdown), at most 20,000 characters"),
    notes_truncated: z.boolean(),
  })
  .openapi('NotedRelease');
const Notes = z
  .object({
    app: z.string(),
    from: z.string(),
    to: z.string(),
    direction: z.enum(['upgrade', 'downgrade']),
    breaking: z.array(Breaking).describe('Breaking releases the move crosses, oldest first'),
    releases: z
      .array(NotedRelease)
      .describe('The releases between the two versions (the newer included), oldest first'),
    refused: z
      .object({ code: z.string(), message: z.string() })
      .nullable()
      .describe('Why an upgrade to this version is refused (only a rollback with data returns there)'),
  })
  .openapi('UpgradeNotes');

const notesRoute = createRoute({
  method: 'get',
  path: '/api/apps/{name}/upgrade-notes',
  tags: ['deploy'],
  summary: "Release notes between the app's PocketBase and another, with each breaking release crossed",
  request: {
    params: z.object({ name: appNameSchema }),
    query: z.object({ to: versionSchema.describe('The version the app would move to') }).strict(),
  },
  responses: { 200: json(Notes, 'The notes'), ...commonErrors, ...errors(404, 502) },
});

export function registerUpgradeNotesRoutes(app: OpenAPIHono<ApiEnv>, deps: { notes: UpgradeNotesService }) {
  app.openapi(notesRoute, async (c) => {
    const { name } = c.req.valid('param');
    authorize(c, { kind: 'app', app: name, level: 'read' });
    return c.json(await deps.notes.between(name, c.req.valid('query').to), 200);
  });
}
