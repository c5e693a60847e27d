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
  })
  .openapi('DeploymentStep');
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
  })
  .openapi('DeploymentSummary');
export const Deployment = Summary.extend({ steps: z.array(Step) }).openapi('Deployment');

export type Deployment = z.infer<typeof Deployment>;
