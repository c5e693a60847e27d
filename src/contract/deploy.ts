import { z } from '@hono/zod-openapi';
import { appNameSchema } from '../shared/rules.js';

export const NameParam = z.object({ name: appNameSchema });
export const Bundle = z
  .object({
    number: z.number().int(),
    size_bytes: z.number().int(),
    unpacked_bytes: z.number().int(),
    files: z.number().int(),
    dirs: z.array(z.string()),
    sha256: z.string(),
    notes: z.string().nullable(),
    actor: z.string(),
    created_at: z.string(),
  })
  .openapi('Bundle');

export const notesSchema = z
  .string()
  .max(2000)
  .regex(/^[^\x00-\x08\x0b-\x1f\x7f]*$/, 'must not contain control characters other than newlines and tabs');

export type Bundle = z.infer<typeof Bundle>;
