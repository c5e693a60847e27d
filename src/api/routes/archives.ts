import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Archives } from '../../core/archives/archives.js';
import { actorName, authorize, type ApiEnv } from '../context.js';
import { commonErrors, errors, json, jsonBody } from '../../contract/common.js';
import { Accepted } from '../../contract/apps.js';
import { ArchiveIdParam, ArchiveList, RestoreArchive } from '../../contract/archives.js';

const list = createRoute({
  method: 'get',
  path: '/api/archives',
  tags: ['apps'],
  summary: "Deleted apps' archives (data, settings and sealed env kept by a delete without purge)",
  responses: { 200: json(ArchiveList, 'Archives, newest first'), ...commonErrors },
});
const restore = createRoute({
  method: 'post',
  path: '/api/archives/{id}/restore',
  tags: ['apps'],
  summary:
    'Restore an archive as a new app (a new identity; the old name by default): a deployment you can follow, ending with the health gate. The archive stays',
  request: { params: ArchiveIdParam, ...jsonBody(RestoreArchive) },
  responses: { 202: json(Accepted, 'Restore started'), ...commonErrors, ...errors(404, 409, 429, 502) },
});
const remove = createRoute({
  method: 'delete',
  path: '/api/archives/{id}',
  tags: ['apps'],
  summary: 'Delete an archive for good',
  request: { params: ArchiveIdParam },
  responses: { 204: { description: 'Deleted' }, ...commonErrors, ...errors(404, 409) },
});

/** A deleted app's archives: the host's, so admin only. */
export function registerArchiveRoutes(app: OpenAPIHono<ApiEnv>, deps: { archives: Archives }) {
  const { archives } = deps;
  app.openapi(list, async (c) => {
    authorize(c, { kind: 'admin' });
    const all = await archives.list();
    return c.json(
      {
        archives: all.map((a) => ({
          id: a.id,
          name: a.name,
          deleted_at: a.deleted_at,
          size_bytes: a.size_bytes,
          pocketbase_version: a.settings.version,
          domains: a.settings.domains,
          memory_max: a.settings.memory_max,
          cpu_quota: a.settings.cpu_quota,
          health_path: a.settings.health_path,
          backup_schedule: a.settings.backup_schedule,
          sleep_after: a.settings.sleep_after,
          env_keys: a.settings.env_keys,
        })),
        keep_days: archives.retention.keepDays,
        max: archives.retention.max,
      },
      200,
    );
  });
  app.openapi(restore, async (c) => {
    const p = authorize(c, { kind: 'admin' });
    const { id } = c.req.valid('param');
    c.set('auditTarget', String(id));
    return c.json(await archives.restore(id, c.req.valid('json'), actorName(p)), 202);
  });
  app.openapi(remove, async (c) => {
    authorize(c, { kind: 'admin' });
    const { id } = c.req.valid('param');
    c.set('auditTarget', String(id));
    await archives.remove(id);
    return c.body(null, 204);
  });
}
