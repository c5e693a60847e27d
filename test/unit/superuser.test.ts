import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { superuserSql } from '../../src/helper/superuser.js';
import { PB_LATEST, PB_OLD, pocketbaseBinary } from '../support/pocketbase.js';
import { tempDir } from '../support/tmp.js';

/**
 * The helper's superuser SQL against the databases real PocketBase executables
 * make (`migrate up`, no server): the row is created, then updated with a new
 * hash and tokenKey; text reaches SQLite only as hex, so an email with a quote
 * is stored as it is and ends nothing.
 */
const emailWithQuote = "o'brien+ops@example.com";

for (const version of [PB_LATEST, PB_OLD]) {
  test(`superuser SQL creates, then resets, the ${version} superuser; no text of the request is spelled in the SQL`, async () => {
    const { dir, cleanup } = tempDir('pocketd-su-');
    try {
      execFileSync(pocketbaseBinary(version), ['migrate', 'up', `--dir=${dir}`], { stdio: 'ignore' });
      const db = path.join(dir, 'data.db');
      const table = version === PB_OLD ? '_admins' : '_superusers';
      const column = version === PB_OLD ? 'passwordHash' : 'password';
      const apply = (password: string) => {
        const hash = bcrypt.hashSync(password, 4);
        const sql = superuserSql(version, { email: emailWithQuote, password }, hash);
        assert.ok(!sql.includes('brien') && !sql.includes(hash) && !sql.includes(password), sql);
        return execFileSync('sqlite3', ['-init', '/dev/null', '-batch', '-bail', db], { input: sql, encoding: 'utf8' });
      };
      const read = () =>
        JSON.parse(
          execFileSync('sqlite3', ['-json', db, `select email, ${column} as hash, tokenKey from ${table}`], {
            encoding: 'utf8',
          }) || '[]',
        ) as Array<{ email: string; hash: string; tokenKey: string }>;
      // 0.23+ keeps an installer account while no superuser exists; it goes once one does.
      if (version !== PB_OLD)
        execFileSync('sqlite3', [
          db,
          "insert into _superusers (id, email, password, tokenKey) values ('pbinstaller0001', '__pbinstaller@example.com', 'x', 'installer-key')",
        ]);
      assert.match(apply('first-password-1'), /^superuser:1$/m);
      const [one] = read();
      assert.equal(one?.email, emailWithQuote);
      assert.ok(bcrypt.compareSync('first-password-1', one!.hash));
      assert.match(apply('second-password-2'), /^superuser:1$/m);
      const rows = read();
      assert.equal(rows.length, 1, 'a reset made a second row');
      assert.ok(bcrypt.compareSync('second-password-2', rows[0]!.hash));
      assert.ok(!bcrypt.compareSync('first-password-1', rows[0]!.hash));
      assert.notEqual(rows[0]!.tokenKey, one!.tokenKey, 'a reset kept the old sessions valid');
    } finally {
      cleanup();
    }
  });
}
