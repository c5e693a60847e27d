import { randomInt } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { capabilitiesOf } from '../shared/pocketbase/versions.js';
import type { HelperContext } from './context.js';
import { HelperError } from './errors.js';
import type { SuperuserSpec } from '../shared/protocol.js';
import { runInSandbox } from './sandbox-run.js';
import { assertRelease } from './units.js';

/**
 * Sets an app's superuser (creates it, or sets its password and signs every
 * session of it out) with no secret anywhere another process can read it:
 * the helper hashes the password itself (bcrypt, as PocketBase does) and hands
 * SQL to `sqlite3` on its stdin, run as the app inside the app's own sandbox
 * (src/helper/sandbox-run.ts). Nothing secret is in an argv, a unit property,
 * an environment or the journal, nothing is sent over the network, and no
 * throwaway password exists at any moment: there is nothing to catch and
 * nothing to sign in with first. Which table, by the app's PocketBase version:
 * src/pocketbase/versions.ts. Values reach the SQL as hex blobs, so no
 * character of an email can end a string.
 */

const hex = (s: string) => `CAST(X'${Buffer.from(s, 'utf8').toString('hex')}' AS TEXT)`;
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const randomText = (n: number, alphabet = ALNUM) =>
  Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');
/** PocketBase's own stamp: `2024-01-02 03:04:05.678Z`. */
const stamp = () => new Date().toISOString().replace('T', ' ');

export function superuserSql(version: string, spec: SuperuserSpec, hash: string): string {
  const caps = capabilitiesOf(version);
  const [table, column] = [caps.superuserTable, caps.hashColumn];
  const [email, pw, key, now, id] = [
    hex(spec.email),
    hex(hash),
    hex(randomText(50)),
    hex(stamp()),
    hex(randomText(15, 'abcdefghijklmnopqrstuvwxyz0123456789')),
  ];
  const insert =
    caps.accounts === 'admins'
      ? `INSERT INTO _admins (id, avatar, email, tokenKey, passwordHash, lastResetSentAt, created, updated)
         SELECT ${id}, 0, ${email}, ${key}, ${pw}, '', ${now}, ${now}`
      : `INSERT INTO _superusers (id, email, password, tokenKey, emailVisibility, verified, created, updated)
         SELECT ${id}, ${email}, ${pw}, ${key}, 0, 1, ${now}, ${now}`;
  return [
    '.bail on',
    '.timeout 15000',
    'BEGIN IMMEDIATE;',
    // A new tokenKey signs every earlier session of that superuser out.
    `UPDATE ${table} SET ${column} = ${pw}, tokenKey = ${key}, updated = ${now} WHERE email = ${email};`,
    `${insert} WHERE NOT EXISTS (SELECT 1 FROM ${table} WHERE email = ${email});`,
    // As PocketBase's own CLI does: the installer's temporary account goes once a real superuser exists.
    ...(caps.installerEmail ? [`DELETE FROM ${table} WHERE email = ${hex(caps.installerEmail)};`] : []),
    `SELECT 'superuser:' || count(*) FROM ${table} WHERE email = ${email} AND ${column} = ${pw};`,
    'COMMIT;',
    '',
  ].join('\n');
}

export async function superuser(ctx: HelperContext, name: string, spec: SuperuserSpec): Promise<void> {
  const record = await ctx.records.get(name);
  if (!record) throw new HelperError(65, `name: app ${name} has no unit installed by pocketd`);
  await assertRelease(ctx, record.version);
  const hash = await bcrypt.hash(spec.password, 10);
  const db = `${ctx.appDir(name)}/pb_data/data.db`;
  let out: string;
  try {
    out = await runInSandbox(ctx, name, ['/usr/bin/sqlite3', '-init', '/dev/null', '-batch', '-bail', db], {
      input: superuserSql(record.version, spec, hash),
      code: 73,
      timeoutMs: 60_000,
    });
  } catch (err) {
    const said = (err as Error).message;
    if (/no such table/.test(said))
      throw new HelperError(73, `the app's database has no superusers table yet: start the app once first`);
    throw err;
  }
  if (!/^superuser:1$/m.test(out)) throw new HelperError(73, 'the superuser was not written');
}
