import { z } from '@hono/zod-openapi';

const email = z.email().max(254);
/** As the command line's `admin create` asks: at least 10 characters. */
const newPassword = z.string().min(10, 'must be at least 10 characters').max(1024);
/** A 6-digit TOTP code or a recovery code (xxxxx-xxxxx). */
export const SecondFactorCode = z
  .string()
  .trim()
  .regex(/^(\d{6}|[a-z2-9]{5}-?[a-z2-9]{5})$/i, 'a 6-digit code or a recovery code');

export const AdminInfo = z
  .object({
    id: z.number().int(),
    email: z.string(),
    created_at: z.string(),
    two_factor: z.boolean().describe('Whether it signs in with a TOTP code after its password'),
    sessions: z.number().int().describe('Its sessions that are valid now'),
  })
  .openapi('Admin');
export const AdminList = z.object({ admins: z.array(AdminInfo) });
export const CreateAdmin = z.object({ email, password: newPassword }).strict().openapi('CreateAdmin');
export const AdminIdParam = z.object({ id: z.coerce.number().int().positive() });

export const ChangePassword = z
  .object({ current_password: z.string().min(1).max(1024), new_password: newPassword })
  .strict()
  .openapi('ChangePassword');

export const TotpStatus = z
  .object({ enabled: z.boolean(), enabled_at: z.string().nullable(), recovery_codes_left: z.number().int() })
  .openapi('TotpStatus');
export const TotpEnrol = z
  .object({ password: z.string().min(1).max(1024) })
  .strict()
  .openapi('TotpEnrolRequest');
export const TotpSecret = z
  .object({
    secret: z.string().describe('Base32; shown this once, never again'),
    otpauth_uri: z.string().describe('The same secret for an authenticator app (otpauth://totp/...)'),
  })
  .openapi('TotpSecret');
export const TotpCode = z.object({ code: SecondFactorCode }).strict().openapi('TotpCode');
export const RecoveryCodes = z
  .object({ recovery_codes: z.array(z.string()).describe('Each works once; shown this once, kept only as hashes') })
  .openapi('RecoveryCodes');
export const TotpDisable = z
  .object({ code: SecondFactorCode.optional(), password: z.string().min(1).max(1024).optional() })
  .strict()
  .refine((b) => (b.code === undefined) !== (b.password === undefined), {
    message: 'give either a code or the password',
    path: ['code'],
  })
  .openapi('TotpDisable');
