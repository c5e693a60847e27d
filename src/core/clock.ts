/** ISO timestamps, the one format the store uses. */
export const nowIso = (): string => new Date().toISOString();
export const isoIn = (ms: number): string => new Date(Date.now() + ms).toISOString();

/** A node-cron expression that fires every `seconds` (rounded to whole minutes above 59 s). */
export const cronEvery = (seconds: number): string =>
  seconds < 60 ? `*/${seconds} * * * * *` : `0 */${Math.max(1, Math.round(seconds / 60))} * * * *`;
