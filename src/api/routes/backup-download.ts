import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { appNameSchema } from '../../core/apps/rules.js';
import type { Backups } from '../../core/backups.js';
import type { PrivilegedStream } from '../../host/privileged-stream.js';
import { PocketdError } from '../../shared/errors.js';
import { authorize, type ApiEnv } from '../context.js';
import { commonErrors, errors } from '../../contract/common.js';

const downloadBackup = createRoute({
  method: 'get',
  path: '/api/apps/{name}/backups/{id}/download',
  tags: ['backups'],
  summary: "Download a backup: the tar of the app's pb_data, streamed as the helper reads it (admin or app manage)",
  request: { params: z.object({ name: appNameSchema, id: z.coerce.number().int().positive() }) },
  responses: {
    200: {
      content: { 'application/x-tar': { schema: z.string().openapi({ format: 'binary' }) } },
      description: "The backup's tar (pb_data/ as SQLite's online backup made it)",
    },
    ...commonErrors,
    ...errors(404, 409, 502),
  },
});

/**
 * A backup leaves the host as it is kept: root's tar, read by the helper and streamed, never
 * copied whole into memory or into the daemon's store. Admins and the app's manage tokens only:
 * a backup holds every record and every PocketBase secret of the app.
 */
export function registerBackupDownloadRoute(
  app: OpenAPIHono<ApiEnv>,
  deps: { backups: Backups; readBackup: PrivilegedStream },
) {
  app.openapi(downloadBackup, async (c) => {
    const { name, id } = c.req.valid('param');
    authorize(c, { kind: 'app', app: name, level: 'manage' });
    const b = await deps.backups.get(name, id);
    if (b.status !== 'ready') throw new PocketdError('BACKUP_NOT_READY', `backup ${id} of ${name} is ${b.status}`);
    const body = await deps.readBackup('read-backup', [name, String(id)]);
    const stamp = b.created_at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': 'application/x-tar',
        'content-disposition': `attachment; filename="${name}-backup-${id}-${stamp}.tar"`,
        'cache-control': 'no-store',
        ...(b.size_bytes ? { 'content-length': String(b.size_bytes) } : {}),
      },
    });
  });
}
