import { z } from '@hono/zod-openapi';
import { appNameSchema } from '../shared/rules.js';

export const NameParam = z.object({ name: appNameSchema });
export const IdParam = NameParam.extend({ id: z.coerce.number().int().positive() });
export const Backup = z
  .object({
    id: z.number().int(),
    app: z.string(),
    kind: z.enum(['manual', 'scheduled', 'pre-deploy']),
    status: z.enum(['creating', 'ready', 'failed']),
    size_bytes: z.number().int().nullable(),
    deployment_id: z.number().int().nullable(),
    error: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('Backup');

export type Backup = z.infer<typeof Backup>;
