import type { Logger } from '../../shared/log.js';
import type { UnitDetails } from './units.js';
import { connectUnitBus, type UnitBus } from './bus.js';

/**
 * Keeps one connection to systemd's D-Bus up: connects, forwards each unit
 * change, and connects again after a drop (5 s) or a failure (30 s). While it is
 * down, `bus()` is null and pocketd reads unit state with systemctl.
 */
export async function keepUnitBus(opts: {
  address: string;
  log: Logger;
  onChange: (unit: string, now: UnitDetails, before: UnitDetails | null) => void;
}): Promise<{ bus(): UnitBus | null; close(): void }> {
  let bus: UnitBus | null = null;
  let reconnect: NodeJS.Timeout | undefined;
  let closed = false;
  const connect = async () => {
    if (opts.address === 'off' || closed) return;
    try {
      const t0 = Date.now();
      const b = await connectUnitBus({ address: opts.address, log: opts.log });
      b.on('change', opts.onChange);
      b.once('down', () => {
        bus = null;
        if (!closed) reconnect = setTimeout(() => void connect(), 5000);
      });
      bus = b;
      opts.log.info({ units: b.units().size, ms: Date.now() - t0 }, 'listening to systemd over D-Bus');
    } catch (err) {
      opts.log.warn(
        { err: (err as Error).message },
        "systemd's D-Bus API is not reachable; reading unit state with systemctl",
      );
      if (!closed) reconnect = setTimeout(() => void connect(), 30_000);
    }
  };
  await connect();
  return {
    bus: () => bus,
    close() {
      closed = true;
      clearTimeout(reconnect);
      bus?.close();
    },
  };
}
