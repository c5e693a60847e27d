/**
 * Orders two PocketBase versions (`0.22.4`, `0.23.0-rc.2`): negative when `a` is older, 0 when equal, positive
 * when newer. A prerelease is older than its release, as in semver.
 *
 * @example compareVersions('0.22.0', '0.23.1') < 0 // a downgrade from 0.23.1 to 0.22.0
 */
export function compareVersions(a: string, b: string): number {
  const [coreA = '', preA] = splitPre(a);
  const [coreB = '', preB] = splitPre(b);
  const na = coreA.split('.').map(Number);
  const nb = coreB.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (na[i] ?? 0) - (nb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (preA === preB) return 0;
  if (preA === undefined) return 1;
  if (preB === undefined) return -1;
  return comparePrerelease(preA, preB);
}

/**
 * semver's order of two prereleases (`rc.2` < `rc.10` < `rc.a`): dot-separated identifiers in turn, digits by
 * their number and below any other identifier, others by their characters; a prefix is older. Plain string
 * comparisons, not `localeCompare`, which loads ICU's collation tables into the daemon.
 */
function comparePrerelease(a: string, b: string): number {
  const ia = a.split('.');
  const ib = b.split('.');
  for (let i = 0; i < Math.min(ia.length, ib.length); i++) {
    const x = ia[i]!;
    const y = ib[i]!;
    if (x === y) continue;
    const nx = /^[0-9]+$/.test(x);
    const ny = /^[0-9]+$/.test(y);
    if (nx && ny) return x.length !== y.length ? Math.sign(x.length - y.length) : x < y ? -1 : 1;
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return Math.sign(ia.length - ib.length);
}

const splitPre = (v: string): [string, string | undefined] => {
  const i = v.indexOf('-');
  return i < 0 ? [v, undefined] : [v.slice(0, i), v.slice(i + 1)];
};

/** Whether moving from `from` to `to` goes back to an older PocketBase. */
export const isDowngrade = (from: string, to: string): boolean => compareVersions(to, from) < 0;
