import { z } from '@hono/zod-openapi';
import { scopeSchema, tokenNameSchema } from './scopes.js';

export const TokenInfo = z
  .object({
    id: z.number().int(),
    name: z.string(),
    kind: z.enum(['api', 'session']),
    scope: z.string(),
    prefix: z.string(),
    created_at: z.string(),
    expires_at: z.string(),
    last_used_at: z.string().nullable(),
  })
  .openapi('Token');

export const CreateToken = z
  .object({
    name: tokenNameSchema,
    scope: scopeSchema,
    expires_days: z.number().int().min(1).max(365).default(90),
  })
  .strict()
  .openapi('CreateToken');

export const Created = z.object({ token: z.string().describe('The secret; shown only once'), info: TokenInfo });
export const IdParam = z.object({ id: z.coerce.number().int().positive() });

export type TokenInfo = z.infer<typeof TokenInfo>;
