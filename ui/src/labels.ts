/** What a control button says while its action runs ("stopping…", never "stoping…"). */
const ING: Record<string, string> = {
  start: 'starting…',
  stop: 'stopping…',
  restart: 'restarting…',
};
export const busyLabel = (action: string): string => ING[action] ?? `${action}…`;

/** A CPU figure, or a dash when the sample has none (the first sample after a start, a stopped app). */
export const cpuText = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : `${Math.round(v * 10) / 10}%`;
