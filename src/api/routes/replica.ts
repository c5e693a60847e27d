import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Apps } from '../../core/apps/apps.js';
import type { ReplicaRestores } from '../../core/replication/replica-restore.js';
import type { Replicas } from '../../core/replication/replicas.js';
import type { ReplicaFiles } from '../../core/replication/replica-files.js';
import { notFound } from '../../shared/errors.js';
import { CloneBody, NameParam, PutReplica, Replica, RestoreBody } from '../../contract/replicas.js';
import { actorName, authorize, type ApiEnv } from '../context.js';
import { QueuedSchema, commonErrors, errors, json, jsonBody } from '../../contract/common.js';

/** An app's off-host replica (issue #27): its target (secrets never answered), status, restore and clone. */
const route = <M extends 'get' | 'put' | 'delete' | 'post'>(method: M, path: string, summary: string) => ({
  method,
  path,
  tags: ['replica'],
  summary,
});
const getReplica = createRoute({
  ...route('get', '/api/apps/{name}/replica', "The app's replica target (no secrets) and its last status"),
  request: { params: NameParam },
  responses: { 200: json(Replica, 'The replica'), ...commonErrors, ...errors(404) },
});
const putReplica = createRoute({
  ...route('put', '/api/apps/{name}/replica', 'Set the target: tried with its credentials first, then replicated'),
  request: { params: NameParam, ...jsonBody(PutReplica) },
  responses: { 200: json(Replica, 'Saved and replicating'), ...commonErrors, ...errors(404, 409, 502) },
});
const deleteReplica = createRoute({
  ...route('delete', '/api/apps/{name}/replica', 'Stop replicating (what the target holds stays)'),
  request: { params: NameParam },
  responses: { 204: { description: 'Removed' }, ...commonErrors, ...errors(404) },
});
const checkReplica = createRoute({
  ...route('post', '/api/apps/{name}/replica/check', 'Ask the target now what it holds (last sync, lag, generation)'),
  request: { params: NameParam },
  responses: { 200: json(Replica, 'The replica, just checked'), ...commonErrors, ...errors(404) },
});
const restore = createRoute({
  ...route(
    'post',
    '/api/apps/{name}/restore',
    "Restore the app's data from its replica (queued; snapshot, health gate)",
  ),
  request: { params: NameParam, ...jsonBody(RestoreBody) },
  responses: { 202: json(QueuedSchema, 'Queued'), ...commonErrors, ...errors(404, 409, 429) },
});
const clone = createRoute({
  ...route('post', '/api/apps/{name}/clone', "A new app with this app's release and data from its replica"),
  request: { params: NameParam, ...jsonBody(CloneBody) },
  responses: {
    202: json(
      z.object({ name: z.string(), port: z.number().int(), deployment_id: z.number().int(), restore: QueuedSchema }),
      'The create and the restore, queued',
    ),
    ...commonErrors,
    ...errors(404, 409, 429),
  },
});

export function registerReplicaRoutes(
  app: OpenAPIHono<ApiEnv>,
  deps: { replicas: Replicas; restores: ReplicaRestores; apps: Apps; files: ReplicaFiles },
) {
  const found = async (name: string) => {
    const v = await deps.replicas.get(name);
    if (!v) throw notFound('replica of app', name);
    return v;
  };
  app.openapi(getReplica, async (c) => {
    const { name } = c.req.valid('param');
    authorize(c, { kind: 'app', app: name, level: 'read' });
    return c.json(await found(name), 200);
  });
  app.openapi(putReplica, async (c) => {
    const { name } = c.req.valid('param');
    authorize(c, { kind: 'admin' });
    return c.json(await deps.replicas.set(name, c.req.valid('json')), 200);
  });
  app.openapi(deleteReplica, async (c) => {
    const { name } = c.req.valid('param');
    authorize(c, { kind: 'admin' });
    await deps.replicas.remove(name);
    return c.body(null, 204);
  });
  app.openapi(checkReplica, async (c) => {
    const { name } = c.req.valid('param');
    authorize(c, { kind: 'app', app: name, level: 'deploy' });
    await found(name);
    // The files and manifest go now when they changed; a failure shows in the status the check answers.
    await deps.files.push(name).catch(() => undefined);
    return c.json(await deps.replicas.refresh(name), 200);
  });
  app.openapi(restore, async (c) => {
    const { name } = c.req.valid('param');
    const p = authorize(c, { kind: 'admin' });
    const { timestamp } = c.req.valid('json');
    return c.json(await deps.restores.restore(name, actorName(p), name, timestamp), 202);
  });
  app.openapi(clone, async (c) => {
    const { name } = c.req.valid('param');
    const p = authorize(c, { kind: 'admin' });
    const body = c.req.valid('json');
    const source = await deps.apps.get(name);
    await found(name);
    c.set('auditTarget', body.name);
    const created = await deps.apps.create(
      { name: body.name, domains: body.domains, env: {}, pocketbase_version: source.version },
      actorName(p),
    );
    const queued = await deps.restores.restore(body.name, actorName(p), name, body.timestamp);
    return c.json(
      { name: created.name, port: created.port, deployment_id: created.deployment_id, restore: queued },
      202,
    );
  });
}
