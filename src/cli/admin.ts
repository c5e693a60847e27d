import { z } from 'zod';
import { openStore } from '../main/store.js';
import { check, parse, readStdin, UsageError } from './args.js';
import { localConfig } from './client.js';

const emailSchema = z.email().max(254);
const passwordSchema = z.string().min(10, 'must be at least 10 characters').max(1024);

/**
 * `pocketd admin create|passwd|totp-reset`: on the host, in the store itself (no daemon needed: this is how
 * the first admin is made, and how a locked-out one gets back in). A new password ends the admin's sessions;
 * `totp-reset` turns off the second factor of an admin who lost its device and its recovery codes.
 */
export async function admin(sub: string | undefined, args: string[]): Promise<number> {
  if (sub === 'totp-reset') return totpReset(args);
  if (sub !== 'create' && sub !== 'passwd')
    throw new UsageError(`unknown command 'admin ${sub ?? ''}'; see pocketd --help`);
  const { values } = parse(
    args,
    { email: { type: 'string' }, password: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
    [],
  );
  if (!values.email) throw new UsageError('--email is required');
  if (values.password === undefined && !values['password-stdin'])
    throw new UsageError('--password or --password-stdin is required');
  const email = check(emailSchema, values.email, '--email');
  const password = check(passwordSchema, values['password-stdin'] ? await readStdin() : values.password, '--password');
  const { db, auth, admins } = await openStore(localConfig());
  try {
    if (sub === 'create') {
      const user = await auth.createUser(email, password);
      process.stdout.write(`created admin ${user.email}; sign in with POST /api/auth/login\n`);
    } else {
      await admins.setPassword(email, password);
      process.stdout.write(`password of ${email.toLowerCase()} set; its sessions were ended\n`);
    }
  } finally {
    await db.destroy();
  }
  return 0;
}

async function totpReset(args: string[]): Promise<number> {
  const { values } = parse(args, { email: { type: 'string' } }, []);
  if (!values.email) throw new UsageError('--email is required');
  const email = check(emailSchema, values.email, '--email');
  const { db, admins } = await openStore(localConfig());
  try {
    await admins.resetTwoFactor(email);
    process.stdout.write(
      `two-factor sign-in of ${email.toLowerCase()} is off; it signs in with its password and can enrol again\n`,
    );
  } finally {
    await db.destroy();
  }
  return 0;
}
