import { z } from 'zod';
import { openStore } from '../main/store.js';
import { check, parse, readStdin, UsageError } from './args.js';
import { localConfig } from './client.js';

const emailSchema = z.email().max(254);
const passwordSchema = z.string().min(10, 'must be at least 10 characters').max(1024);

/**
 * `pocketd admin create|passwd`: on the host, in the store itself (no daemon needed: this is how the first
 * admin is made, and how a locked-out one gets back in). A new password ends the admin's sessions.
 */
export async function admin(sub: string | undefined, args: string[]): Promise<number> {
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
  const { db, auth } = await openStore(localConfig());
  try {
    if (sub === 'create') {
      const user = await auth.createUser(email, password);
      process.stdout.write(`created admin ${user.email}; sign in with POST /api/auth/login\n`);
    } else {
      await auth.setPassword(email, password);
      process.stdout.write(`password of ${email.toLowerCase()} set; its sessions were ended\n`);
    }
  } finally {
    await db.destroy();
  }
  return 0;
}
