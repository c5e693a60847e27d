import net from 'node:net';

/** Whether something on this host already listens on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(true));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(false)));
  });
}

/** GET http://127.0.0.1:port/api/health with a timeout: the status, or null when nothing answered. */
export async function probeHealth(
  port: number,
  timeoutMs: number,
): Promise<{ status: number | null; ms: number; error?: string }> {
  const t0 = performance.now();
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/health`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return { status: res.status, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    return { status: null, ms: Math.round(performance.now() - t0), error: (err as Error).message };
  }
}
