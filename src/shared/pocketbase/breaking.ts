/**
 * PocketBase releases that can break an app that ran fine on the release
 * before: its data, its `pb_hooks`/`pb_migrations`, or the clients that call
 * it. Read from PocketBase's own CHANGELOG.md (its "⚠️" and "breaking" items),
 * kept to what an app's owner must act on; changes to the Go API alone (which a
 * pocketd app, running the official executable, never uses) are left out.
 * Pure, like the capability table beside it.
 *
 * @example
 * breakingCrossed('0.22.20', '0.40.6').map((b) => b.version) // ['0.23.0', '0.24.0', '0.28.0', '0.32.0']
 */
export interface BreakingRelease {
  readonly version: string;
  /** One line: what the owner must check. */
  readonly summary: string;
  /** The changes behind it, each one line. */
  readonly changes: readonly string[];
}

export const BREAKING_RELEASES: readonly BreakingRelease[] = Object.freeze([
  {
    version: '0.22.0',
    summary: 'names with _via_ are refused and nested relation filters stop at 6 levels',
    changes: [
      'collections and fields may no longer have `_via_` in their name',
      'the nested relations resolver of filters and rules is limited to 6 levels (as expand is)',
    ],
  },
  {
    version: '0.23.0',
    summary: 'admins become _superusers, collection schema becomes fields, a new hooks API',
    changes: [
      'admins are converted to records of the `_superusers` collection: `/api/admins/*` is gone, superusers sign in at `/api/collections/_superusers/auth-with-password`',
      'collections have `fields` instead of `schema`, in a flattened model',
      "the JS hooks API changed (route handlers get a request event `e` instead of echo's `c`, `$app.dao()` is gone): `pb_hooks` and `pb_migrations` must be migrated by hand (pocketbase.io/v023upgrade/jsvm/)",
      'error responses carry `status` instead of `code`; `/api/*` requests with a trailing slash no longer match',
      'clients need a JS SDK 0.22+ or Dart SDK 0.19+; pb_data is migrated on the first start and cannot be read by 0.22 again',
    ],
  },
  {
    version: '0.24.0',
    summary: 'Create API rules no longer run a dry submit',
    changes: ['Create API rules that reference the record itself or count records may have to be adjusted'],
  },
  {
    version: '0.28.0',
    summary: 'json fields hold at most 1 MB by default',
    changes: ['a `json` field without its own max size refuses values over 1 MB'],
  },
  {
    version: '0.32.0',
    summary: 'client-side filters and sorts through relations check each collection’s List rule',
    changes: [
      'a client may filter or sort through a relation only when it may list the related collection (0.31.0 began this with superuser-only collections)',
    ],
  },
]);

const VERSION = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;

/**
 * Orders two versions `X.Y.Z[-pre]` (a prerelease before its release). Throws
 * on text that is not a version: callers hold validated versions.
 */
export function compareVersions(a: string, b: string): number {
  const ma = VERSION.exec(a);
  const mb = VERSION.exec(b);
  if (!ma || !mb) throw new RangeError(`'${ma ? b : a}' is not a PocketBase version`);
  for (let i = 1; i <= 3; i++) {
    const d = Number(ma[i]) - Number(mb[i]);
    if (d !== 0) return d;
  }
  if (ma[4] === mb[4]) return 0;
  if (ma[4] === undefined) return 1;
  if (mb[4] === undefined) return -1;
  return ma[4] < mb[4] ? -1 : 1;
}

/**
 * The breaking releases a move from `from` to `to` crosses, oldest first: those
 * after the older of the two up to and including the newer. Going down, they
 * are the releases whose changes are undone.
 */
export function breakingCrossed(from: string, to: string): BreakingRelease[] {
  // A prerelease of a breaking release already breaks: each side counts as the release it leads to.
  const [low, high] = (compareVersions(from, to) <= 0 ? [from, to] : [to, from]).map((v) => v.replace(/-.*$/, '')) as [
    string,
    string,
  ];
  return BREAKING_RELEASES.filter((b) => compareVersions(b.version, low) > 0 && compareVersions(b.version, high) <= 0);
}
