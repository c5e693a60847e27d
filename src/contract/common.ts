import { z } from '@hono/zod-openapi';

export const ErrorEnvelope = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'VALIDATION_FAILED' }),
      message: z.string(),
      fields: z.array(z.object({ field: z.string(), code: z.string(), message: z.string() })),
      request_id: z.string(),
    }),
  })
  .openapi('Error');

const errorResponse = (description: string) => ({
  content: { 'application/json': { schema: ErrorEnvelope } },
  description,
});

/** The error responses every authenticated route can give, for the OpenAPI document. */
export const commonErrors = {
  401: errorResponse('No valid bearer token'),
  403: errorResponse('The token does not cover this route'),
  422: errorResponse('Invalid input; every bad field is listed'),
} as const;

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});

export const errors = (...codes: Array<400 | 401 | 404 | 409 | 413 | 415 | 429 | 502 | 503>) =>
  Object.fromEntries(codes.map((c) => [c, errorResponse(`Error ${c}`)])) as Record<
    number,
    ReturnType<typeof errorResponse>
  >;

/** An operation recorded in the app's queue: it runs when the ones before it (`position` of them) end. */
export const QueuedSchema = z
  .object({
    deployment_id: z.number().int(),
    status: z.literal('queued'),
    position: z.number().int().describe('How many operations of this app run or wait before it (0: it starts now)'),
  })
  .openapi('Queued');

export type FieldIssue = z.infer<typeof ErrorEnvelope>['error']['fields'][number];
