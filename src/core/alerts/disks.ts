import { statfs } from 'node:fs/promises';

/** The free share of each watched disk, in percent to one decimal; a disk that cannot be read is left out. */
export async function diskFree<D extends { name: string; path: string }>(
  disks: D[],
): Promise<Array<D & { free: number }>> {
  const out: Array<D & { free: number }> = [];
  for (const d of disks) {
    const fs = await statfs(d.path).catch(() => null);
    if (!fs) continue;
    out.push({ ...d, free: Math.round((fs.bavail / fs.blocks) * 1000) / 10 });
  }
  return out;
}
