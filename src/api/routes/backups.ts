import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Backups } from '../../core/backups.js';
import type { Changes } from '../../core/changes/changes.js';
import { actorName, authorize, type ApiEnv } from '../context.js';
import { QueuedSchema, commonErrors, errors, json } from '../../contract/common.js';
import { NameParam, IdParam, Backup } from '../../contract/backups.js';

const createBackup = createRoute({
  method: 'post',
  path: '/api/apps/{name}/backups',
  tags: ['backups'],
  summary: "Back up the app's data now (consistent while it runs)",
  request: { params: NameParam },
  responses: {
    201: json(Backup, 'The backup'),
    202: json(QueuedSchema, 'Queued behind other operations of the app'),
    ...commonErrors,
    ...errors(404, 429, 502),
  },
});
const listBackups = createRoute({
  method: 'get',
  path: '/api/apps/{name}/backups',
  tags: ['backups'],
  summary: 'Backups of the app, newest first',
  request: { params: NameParam },
  responses: { 200: json(z.object({ backups: z.array(Backup) }), 'Backups'), ...commonErrors, ...errors(404) },
});
const restoreBackup = createRoute({
  method: 'post',
  path: '/api/apps/{name}/backups/{id}/restore',
  tags: ['backups'],
  summary: 'Restore a backup as a deployment (snapshot first, health gate, rollback)',
  request: { params: IdParam },
  responses: {
    202: json(QueuedSchema, 'Queued; it starts when the operations before it end (at once when none are)'),
    ...commonErrors,
    ...errors(404, 409, 429),
  },
});
const deleteBackup = createRoute({
  method: 'delete',
  path: '/api/apps/{name}/backups/{id}',
  tags: ['backups'],
  summary: 'Delete a backup',
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted' }, ...commonErrors, ...errors(404) },
});
export function registerBackupRoutes(app: OpenAPIHono<ApiEnv>, deps: { backups: Backups; changes: Changes }) {
  app.openapi(createBackup, async (c) => {
    const { name } = c.req.valid('param');
    const p = authorize(c, { kind: 'app', app: name, level: 'manage' });
    const r = await deps.backups.manual(name, actorName(p));
    if ('queued' in r) return c.json(r.queued, 202);
    return c.json(r.done, 201);
  });
  app.openapi(listBackups, async (c) => {
    const { name } = c.req.valid('param');
    authorize(c, { kind: 'app', app: name, level: 'read' });
    return c.json({ backups: await deps.backups.list(name) }, 200);
  });
  app.openapi(restoreBackup, async (c) => {
    const { name, id } = c.req.valid('param');
    const p = authorize(c, { kind: 'app', app: name, level: 'manage' });
    return c.json(await deps.changes.restore(name, id, actorName(p)), 202);
  });
  app.openapi(deleteBackup, async (c) => {
    const { name, id } = c.req.valid('param');
    authorize(c, { kind: 'app', app: name, level: 'manage' });
    await deps.backups.remove(name, id);
    return c.body(null, 204);
  });
}
