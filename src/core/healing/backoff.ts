/**
 * The wait before the `attempt`-th start (0 first) of an app systemd gave up on: `base` seconds, doubling,
 * never more than `max`.
 *
 * @example backoffSeconds(3, 10, 300) // 80
 */
export const backoffSeconds = (attempt: number, base: number, max: number): number =>
  Math.min(max, base * 2 ** Math.min(attempt, 30));

/** A unit change that is a crash of the main process: systemd restarts it (`auto-restart`), or gave up (`failed`). */
export function crashKind(
  now: { active_state: string; sub_state: string },
  before: { active_state: string; sub_state: string } | null,
): 'restarting' | 'gave_up' | null {
  if (now.sub_state === 'auto-restart' && before?.sub_state !== 'auto-restart') return 'restarting';
  if (now.active_state === 'failed' && before?.active_state !== 'failed') return 'gave_up';
  return null;
}
