/** A memory limit as the API takes it ("256M", "1G", "512K") in bytes; shared by the rules and the dashboard (no dependency). */
export function toBytes(v: string): number {
  const n = Number(v.slice(0, -1));
  const unit = v.slice(-1);
  return n * (unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : 1024 ** 3);
}
