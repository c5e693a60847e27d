import { z } from '@hono/zod-openapi';
import { OPERATION_KINDS } from './operations.js';

export const STATUSES = [
  'queued',
  'pending',
  'running',
  'success',
  'failed',
  'rolled_back',
  'cancelled',
  'superseded',
] as const;
export const Step = z
  .object({
    id: z.number().int(),
    position: z.number().int(),
    name: z.string(),
    status: z.enum(['pending', 'running', 'success', 'failed', 'skipped']),
    message: z.string().nullable(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    undo: z.string().nullable().describe('After a later step failed: `undone`, or `failed: why`; null when not undone'),
  })
  .openapi('DeploymentStep');
/** Where a finished change left the app: what CI prints, and what an operator reads before acting. */
export const outcomeSchema = z
  .object({
    release: z.string().describe('The PocketBase version the app runs now'),
    bundle: z.number().int().nullable().describe('The bundle it serves now (null: none)'),
    running: z.boolean(),
    healthy: z.boolean().describe('Whether /api/health answered 200 when the deployment ended'),
    summary: z.string().describe('The same in one sentence'),
  })
  .openapi('DeploymentOutcome');
export type DeploymentOutcome = z.infer<typeof outcomeSchema>;
export const Summary = z
  .object({
    id: z.number().int(),
    app: z.string(),
    kind: z.enum(OPERATION_KINDS),
    status: z.enum(STATUSES),
    params: z.record(z.string(), z.unknown()),
    error: z.string().nullable(),
    actor: z.string(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    outcome: outcomeSchema
      .nullable()
      .describe('Where a finished change left the app (null while it runs and for other kinds)'),
  })
  .openapi('DeploymentSummary');
export const Deployment = Summary.extend({ steps: z.array(Step) }).openapi('Deployment');

export type Deployment = z.infer<typeof Deployment>;
