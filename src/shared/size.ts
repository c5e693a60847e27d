/** A memory limit as the API takes it ("256M", "1G", "512K") in bytes; the rules use it; the dashboard has its own copy, as it imports nothing but the contract's types. */
export function toBytes(v: string): number {
  const n = Number(v.slice(0, -1));
  const unit = v.slice(-1);
  return n * (unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : 1024 ** 3);
}
