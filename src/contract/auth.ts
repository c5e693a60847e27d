import { z } from '@hono/zod-openapi';

export const LoginBody = z
  .object({
    email: z.email().max(254),
    password: z.string().min(1).max(1024),
    code: z
      .string()
      .trim()
      .max(32)
      .optional()
      .describe(
        'The TOTP code (or a recovery code) of an admin with two-factor sign-in; asked for by a 401 TOTP_REQUIRED',
      ),
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
    app: z.string().nullable().describe('The one app an app-scoped token is for; null for admin'),
    can: z
      .array(z.string())
      .describe(
        'What the dashboard may offer this token (host, app.control, app.deploy, ...); the routes still decide',
      ),
  })
  .openapi('Me');
