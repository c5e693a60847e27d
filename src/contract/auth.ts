import { z } from '@hono/zod-openapi';

export const LoginBody = z
  .object({
    email: z.email().max(254),
    password: z.string().min(1).max(1024),
  })
  .strict()
  .openapi('LoginRequest');

export const LoginResult = z.object({ token: z.string(), expires_at: z.string() }).openapi('Session');
export const Me = z
  .object({
    name: z.string(),
    email: z.string().nullable(),
    scope: z.string(),
    kind: z.enum(['api', 'session']),
  })
  .openapi('Me');
