/**
 * What differs between PocketBase versions where pocketd depends on it: one
 * table, pure (no imports), shared by the daemon and the root helper. Seen on
 * the real executables the tests run (0.22.20, 0.22.34, 0.39.11, 0.40.6):
 *
 * - 0.23 renamed admins to superusers: the table (`_admins` with
 *   `passwordHash` before, `_superusers` with `password` after), the command
 *   line (`admin create|update` before, `superuser upsert` after; pocketd uses
 *   neither: a password in argv is readable by anyone) and the auth collection
 *   (`/api/admins/...` before, `/api/collections/_superusers/...` after).
 * - 0.23 renamed `pb_data/logs.db` to `pb_data/auxiliary.db`.
 * - 0.23+ prints, on every start without a superuser, a link whose path holds a
 *   live superuser-creation token (`/_/#/pbinstall/<jwt>`): it must not reach
 *   anyone who reads the app's journal.
 * - The same for all: the admin UI at `/_/` (called "Admin UI" before 0.23,
 *   "Dashboard" after), `GET /api/health` answering 200 with
 *   `{"message":"API is healthy.", ...}`, and the flags pocketd passes
 *   (`serve --http --dir --publicDir --hooksDir --migrationsDir`).
 *
 * @example
 * capabilitiesOf('0.22.20').superuserTable // '_admins'
 */
export interface PocketBaseCapabilities {
  /** Admins (before 0.23) or superusers. */
  readonly accounts: 'admins' | 'superusers';
  /** Where the admin UI is served. */
  readonly adminPath: '/_/';
  /** What PocketBase calls its admin UI in its own start-up lines. */
  readonly adminLabel: 'Admin UI' | 'Dashboard';
  /** The liveness path pocketd's health gate asks. */
  readonly healthPath: '/api/health';
  /** The password sign-in of an admin/superuser. */
  readonly authPath: string;
  /**
   * Where the admins/superusers live in `pb_data/data.db` and which column holds
   * the bcrypt hash: the helper writes the row from inside the app's sandbox
   * (src/helper/superuser.ts) rather than run PocketBase's CLI, whose password
   * argument anyone can read in /proc and, for a transient unit, over D-Bus.
   */
  readonly superuserTable: '_admins' | '_superusers';
  readonly hashColumn: 'passwordHash' | 'password';
  /**
   * The temporary superuser 0.23+ makes at start while there is none (the
   * installer link's account); PocketBase's own CLI deletes it once a real one
   * exists, and so does the helper: its token is printed in the app's journal.
   */
  readonly installerEmail: string | null;
  /** The SQLite files PocketBase keeps in pb_data. */
  readonly dataFiles: readonly string[];
  /** Prints a superuser-installer token at start while no superuser exists. */
  readonly printsInstallerToken: boolean;
}

const VERSION = /^(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?$/;

/** Major and minor of a version `X.Y.Z[-pre]`, or null when it is not one. */
function minorOf(version: string): [number, number] | null {
  const m = VERSION.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

const OLD: PocketBaseCapabilities = Object.freeze({
  accounts: 'admins',
  adminPath: '/_/',
  adminLabel: 'Admin UI',
  healthPath: '/api/health',
  authPath: '/api/admins/auth-with-password',
  superuserTable: '_admins',
  hashColumn: 'passwordHash',
  installerEmail: null,
  dataFiles: Object.freeze(['data.db', 'logs.db']),
  printsInstallerToken: false,
});

const NEW: PocketBaseCapabilities = Object.freeze({
  accounts: 'superusers',
  adminPath: '/_/',
  adminLabel: 'Dashboard',
  healthPath: '/api/health',
  authPath: '/api/collections/_superusers/auth-with-password',
  superuserTable: '_superusers',
  hashColumn: 'password',
  installerEmail: '__pbinstaller@example.com',
  dataFiles: Object.freeze(['data.db', 'auxiliary.db']),
  printsInstallerToken: true,
});

/**
 * The capabilities of a PocketBase version. Versions before 0.23 have admins;
 * 0.23 and later (1.x included) have superusers. Throws on text that is not a
 * version: callers hold validated versions.
 */
export function capabilitiesOf(version: string): PocketBaseCapabilities {
  const mm = minorOf(version);
  if (!mm) throw new RangeError(`'${version}' is not a PocketBase version`);
  const [major, minor] = mm;
  return major === 0 && minor < 23 ? OLD : NEW;
}

/**
 * How pocketd serves an app's tree on a loopback port: the same flags on every
 * supported version (the unit template spells them for the app's unit; the
 * trial boot and the tests use this).
 */
export function serveArgv(dir: string, port: number): string[] {
  return [
    'serve',
    `--http=127.0.0.1:${port}`,
    `--dir=${dir}/pb_data`,
    `--publicDir=${dir}/pb_public`,
    `--hooksDir=${dir}/pb_hooks`,
    `--migrationsDir=${dir}/pb_migrations`,
  ];
}

/**
 * The superuser-installer link PocketBase 0.23+ prints at start carries a token
 * that lets whoever holds it create the first superuser. Log readers get the
 * line with the token masked.
 */
export function maskInstallerToken(line: string): string {
  return line.replace(/(\/_\/#\/pbinstall\/)[A-Za-z0-9._~-]+/g, '$1[masked]');
}
