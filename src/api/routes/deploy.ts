import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { versionSchema } from '../../core/apps/rules.js';
import type { Bundles } from '../../core/bundles.js';
import type { Changes } from '../../core/changes/changes.js';
import { invalid } from '../../shared/errors.js';
import { readUpload } from '../multipart.js';
import { actorName, authorize, type ApiEnv } from '../context.js';
import { QueuedSchema, commonErrors, errors, json, jsonBody } from '../../contract/common.js';
import { NameParam, Bundle, notesSchema } from '../../contract/deploy.js';

const started = <B extends z.ZodType>(summary: string, path: string, body: B) =>
  createRoute({
    method: 'post',
    path,
    tags: ['deploy'],
    summary,
    request: { params: NameParam, ...jsonBody(body) },
    responses: {
      202: json(QueuedSchema, 'Queued; it starts when the operations before it end (at once when none are)'),
      ...commonErrors,
      ...errors(404, 409, 429, 502),
    },
  });
const upgradeRoute = started(
  'Upgrade or downgrade PocketBase: snapshot, switch, health gate, automatic rollback',
  '/api/apps/{name}/upgrade',
  z
    .object({
      version: versionSchema,
      trial: z
        .boolean()
        .default(true)
        .describe(
          "Boot the new release on a throwaway copy of the app's data and files first; only a healthy trial switches the app, a failed one leaves it untouched",
        ),
      allow_downgrade: z
        .boolean()
        .default(false)
        .describe('A version older than the one the app runs is refused (422 DOWNGRADE) unless this is true'),
    })
    .strict()
    .openapi('Upgrade'),
);
const deployRoute = started(
  'Deploy an uploaded bundle: snapshot, install, health gate, automatic rollback',
  '/api/apps/{name}/deploy',
  z
    .object({
      bundle: z.number().int().positive(),
      supersede: z
        .boolean()
        .default(false)
        .describe('End the deploys of this app that still wait (superseded): two quick pushes deploy the newest once'),
    })
    .strict()
    .openapi('Deploy'),
);
const rollbackRoute = started(
  'Return to the release and bundle of an earlier successful deployment (and, with data, its data)',
  '/api/apps/{name}/rollback',
  z
    .object({ deployment_id: z.number().int().positive(), data: z.boolean().default(false) })
    .strict()
    .openapi('Rollback'),
);

const uploadRoute = createRoute({
  method: 'post',
  path: '/api/apps/{name}/bundles',
  tags: ['deploy'],
  summary:
    'Upload a bundle: multipart/form-data with a zip in `file` (pb_public/, pb_hooks/, pb_migrations/) and optional `notes`',
  // The body is read by the handler (not a validator) so it is parsed once; this documents it.
  request: { params: NameParam },
  requestBody: {
    content: {
      'multipart/form-data': {
        schema: {
          type: 'object',
          required: ['file'],
          properties: { file: { type: 'string', format: 'binary' }, notes: { type: 'string', maxLength: 2000 } },
        },
      },
    },
    required: true,
  },
  responses: { 201: json(Bundle, 'Kept as the next number'), ...commonErrors, ...errors(404, 413, 415, 429) },
});
const listBundles = createRoute({
  method: 'get',
  path: '/api/apps/{name}/bundles',
  tags: ['deploy'],
  summary: 'Bundles of the app, newest first',
  request: { params: NameParam },
  responses: { 200: json(z.object({ bundles: z.array(Bundle) }), 'Bundles'), ...commonErrors, ...errors(404) },
});
const downloadBundle = createRoute({
  method: 'get',
  path: '/api/apps/{name}/bundles/{number}/download',
  tags: ['deploy'],
  summary: 'The zip as uploaded',
  request: { params: NameParam.extend({ number: z.coerce.number().int().positive() }) },
  responses: {
    200: {
      content: { 'application/zip': { schema: z.string().openapi({ format: 'binary' }) } },
      description: 'The zip',
    },
    ...commonErrors,
    ...errors(404),
  },
});

export function registerDeployRoutes(app: OpenAPIHono<ApiEnv>, deps: { changes: Changes; bundles: Bundles }) {
  app.openapi(upgradeRoute, async (c) => {
    const { name } = c.req.valid('param');
    const p = authorize(c, { kind: 'app', app: name, level: 'manage' });
    const body = c.req.valid('json');
    return c.json(await deps.changes.upgrade(name, body.version, actorName(p), body.trial, body.allow_downgrade), 202);
  });
  app.openapi(deployRoute, async (c) => {
    const { name } = c.req.valid('param');
    const p = authorize(c, { kind: 'app', app: name, level: 'deploy' });
    const body = c.req.valid('json');
    return c.json(await deps.changes.deploy(name, body.bundle, actorName(p), body.supersede), 202);
  });
  app.openapi(rollbackRoute, async (c) => {
    const { name } = c.req.valid('param');
    const p = authorize(c, { kind: 'app', app: name, level: 'manage' });
    const body = c.req.valid('json');
    return c.json(await deps.changes.rollback(name, body.deployment_id, body.data, actorName(p)), 202);
  });

  app.openapi(uploadRoute, async (c) => {
    const { name } = c.req.valid('param');
    const p = authorize(c, { kind: 'app', app: name, level: 'deploy' });
    await deps.bundles.require(name);
    // Read in turn and straight to disk: a waiting upload is not read at all, a read one costs buffers.
    const release = await deps.bundles.enterUpload();
    try {
      const form = await readUpload(c.req.raw, 'file', (s) => deps.bundles.stage(name, s), {
        maxBytes: deps.bundles.uploadLimitBytes,
        onDiscard: deps.bundles.discard,
      });
      const notes = form.fields.get('notes') ?? null;
      const extra = [...form.extra, ...[...form.fields.keys()].filter((k) => k !== 'notes')];
      const issues = [
        ...(form.file
          ? []
          : [{ field: 'file', code: 'REQUIRED', message: 'a zip file in the field named file is required' }]),
        ...(notes === null || notesSchema.safeParse(notes).success
          ? []
          : [
              {
                field: 'notes',
                code: 'INVALID',
                message: 'notes must be text of at most 2000 characters without control characters',
              },
            ]),
        ...extra.map((k) => ({ field: k.slice(0, 64), code: 'UNKNOWN_FIELD', message: 'not a field of this form' })),
      ];
      if (issues.length || !form.file) {
        if (form.file) await deps.bundles.discard(form.file);
        throw invalid(issues);
      }
      return c.json(await deps.bundles.keep(name, form.file, notes, actorName(p)), 201);
    } finally {
      release();
    }
  });
  app.openapi(listBundles, async (c) => {
    const { name } = c.req.valid('param');
    authorize(c, { kind: 'app', app: name, level: 'read' });
    const bundles = await deps.bundles.list(name);
    return c.json({ bundles }, 200);
  });
  app.openapi(downloadBundle, async (c) => {
    const { name, number } = c.req.valid('param');
    authorize(c, { kind: 'app', app: name, level: 'read' });
    const b = await deps.bundles.get(name, number);
    return c.body(Readable.toWeb(createReadStream(b.file)) as ReadableStream, 200, {
      'content-type': 'application/zip',
      'content-length': String(b.size_bytes),
      'content-disposition': `attachment; filename="${name}-bundle-${number}.zip"`,
    }) as never;
  });
}
