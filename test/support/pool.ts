/**
 * Runs `fn` over `items`, at most `limit` at once (started in order); ends when all
 * have. For corpora of independent cases that each wait on a process of their own.
 */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
