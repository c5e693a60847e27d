/**
 * Where a PocketBase version keeps its first superuser and how one signs in
 * as it: 0.22 and older call them admins (`_admins`, `/api/admins/...`);
 * 0.23 made them the auth collection `_superusers`. Pure: used by the helper
 * (which writes the row) and by the daemon and tests (which sign in).
 */
export type SuperuserApi =
  | { kind: 'admins'; table: '_admins'; hashColumn: 'passwordHash'; authPath: '/api/admins/auth-with-password' }
  | {
      kind: 'superusers';
      table: '_superusers';
      hashColumn: 'password';
      authPath: '/api/collections/_superusers/auth-with-password';
    };

const parts = (v: string) => v.split(/[.-]/).slice(0, 3).map(Number) as [number, number, number];

/** Whether version `a` is older than `b` (major.minor.patch; a pre-release counts as its release). */
export function olderThan(a: string, b: string): boolean {
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! < y[i]!;
  return false;
}

export function superuserApiOf(version: string): SuperuserApi {
  return olderThan(version, '0.23.0')
    ? { kind: 'admins', table: '_admins', hashColumn: 'passwordHash', authPath: '/api/admins/auth-with-password' }
    : {
        kind: 'superusers',
        table: '_superusers',
        hashColumn: 'password',
        authPath: '/api/collections/_superusers/auth-with-password',
      };
}
